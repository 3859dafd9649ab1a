"""Data for the labeling tests: a project whose responses look like real answers."""

from ranking_app.models import Project, Prompt, Response

LONG_ANSWER = "\n\n".join(
    [
        "A cache keeps the results of expensive work close to where they are needed.",
        "```python\n@functools.lru_cache(maxsize=1024)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n```",
        "- **Hit**: the value is served from memory\n- **Miss**: it is computed, then stored\n- **Eviction**: the least recently used entry goes first",
    ]
    + [f"Paragraph {i}: invalidation is the hard part, so give every entry a clear owner and lifetime." for i in range(8)]
)

ANSWERS = [
    LONG_ANSWER,
    "Caching stores data in **fast memory**.\nSecond line kept.",
    "It is when you save stuff. <script>alert('xss')</script> Maybe.",
    "1. Measure first\n2. Cache the slow part\n3. Measure again",
]


def make_labeling_project(slug: str = "demo", n_prompts: int = 3, k: int = 4, **fields) -> Project:
    fields.setdefault("guidelines", "Rank by **helpfulness**, then correctness. Ties are fine when two answers are equally good.")
    project = Project.objects.create(name=slug.replace("-", " ").title(), slug=slug, **fields)
    for p in range(n_prompts):
        prompt = Prompt.objects.create(
            project=project, external_id=f"p-{p:03d}", text=f"Explain **caching** to a new developer ({p})."
        )
        Response.objects.bulk_create(
            Response(prompt=prompt, position=i, text=ANSWERS[i % len(ANSWERS)] + ("" if i < len(ANSWERS) else f" (#{i})"))
            for i in range(k)
        )
    return project
