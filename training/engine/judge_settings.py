"""How a model ranks responses, without torch: ``JudgeSettings`` and its checks (the web's judging form
and API validate with them; ``training.engine.judge`` loads and runs the model)."""

from __future__ import annotations

from dataclasses import dataclass, field

JUDGE_KINDS = ("auto", "reward", "causal")
DEFAULT_TEMPLATE = (
    "You are reviewing an assistant's answer to a user's request.\n\n"
    "Request:\n{prompt}\n\n"
    "Answer:\n{response}\n\n"
    "Is this answer helpful, correct and clearly written? Reply Yes or No.\n"
    "Verdict:"
)
DEFAULT_VERDICT = " Yes"


@dataclass
class JudgeSettings:
    """How a model ranks responses (every field is a ``judge`` flag)."""

    model: str = field(metadata={"help": "Hub id or local folder of the judge model (causal LM or reward model)."})
    adapter: str | None = field(default=None, metadata={"help": "Folder of a LoRA adapter to put on the model."})
    kind: str = field(default="auto", metadata={"help": "reward (sequence classifier), causal (verdict log-prob) or auto (from the model's config).", "choices": JUDGE_KINDS})
    template: str = field(default=DEFAULT_TEMPLATE, metadata={"help": "Causal judge: the question, with {prompt} and {response} placeholders."})
    verdict: str = field(default=DEFAULT_VERDICT, metadata={"help": "Causal judge: the text whose log-probability after the template scores a response."})
    tie_epsilon: float = field(default=0.0, metadata={"help": "Responses whose scores lie within this of a tier's best score are tied."})
    max_length: int = field(default=512, metadata={"help": "Maximum tokens per scored row (prompt + response, or filled template + verdict)."})
    batch_size: int = field(default=8, metadata={"help": "Rows per forward pass."})

    def __post_init__(self):
        problems = self.errors()
        if problems:
            raise ValueError("; ".join(f"{name}: {message}" for name, message in problems.items()))

    def errors(self) -> dict[str, str]:
        """Every problem at once, by field (empty when the settings can be used)."""
        return settings_errors(vars(self))


def settings_errors(values: dict) -> dict[str, str]:
    """The problems of ``JudgeSettings`` field values (a partial dict is checked field by field)."""
    problems = {}
    if "kind" in values and values["kind"] not in JUDGE_KINDS:
        problems["kind"] = f"must be one of {', '.join(JUDGE_KINDS)} (got {values['kind']!r})"
    if "template" in values:
        problems.update(_template_errors(values["template"]))
    if "verdict" in values and not (isinstance(values["verdict"], str) and values["verdict"]):
        problems["verdict"] = "must be a non-empty text"
    for name, low, high in (("tie_epsilon", 0, 1e6), ("max_length", 16, 131072), ("batch_size", 1, 4096)):
        value = values.get(name, low)
        whole = name != "tie_epsilon"
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or not low <= value <= high:
            problems[name] = f"must be {'an integer' if whole else 'a number'} from {low:g} to {high:g} (got {value!r})"
    return problems


def _template_errors(template) -> dict[str, str]:
    if not isinstance(template, str):
        return {"template": "must be a text"}
    missing = [name for name in ("{prompt}", "{response}") if name not in template]
    if missing:
        return {"template": f"must contain {' and '.join(missing)}"}
    try:
        template.format(prompt="", response="")
    except (KeyError, IndexError, ValueError) as error:
        return {"template": f"only {{prompt}} and {{response}} may appear in braces (double other braces: {{{{ }}}}); {error!r}"}
    return {}
