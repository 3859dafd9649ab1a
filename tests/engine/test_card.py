"""The adapter's model card gains the held-out evaluation table (base vs adapter), once."""

from training.engine.card import card_add_evaluation

RESULT = {"split": "test", "n_prompts": 14, "n_pairs": 84, "pairwise_accuracy": 0.68, "accuracy": 0.5, "ndcg": 0.89,
          "mrr": 0.7, "kendall_tau": 0.36, "base": {"pairwise_accuracy": 0.46, "accuracy": 0.07, "ndcg": 0.75,
                                                     "mrr": 0.4, "kendall_tau": None}}


def test_the_table_is_added_once_and_replaced_on_a_new_evaluation(tmp_path):
    card = tmp_path / "README.md"
    card.write_text("# LoRA adapter\n\n| | |\n| --- | --- |\n| loss | grpo |\n", encoding="utf-8")

    card_add_evaluation(tmp_path, RESULT)
    card_add_evaluation(tmp_path, {**RESULT, "accuracy": 0.57})

    text = card.read_text(encoding="utf-8")
    assert text.startswith("# LoRA adapter\n") and text.count("## Held-out evaluation") == 1
    assert "14 prompts, 84 valid pairs" in text
    assert "| pairwise accuracy | 0.460 | 0.680 |" in text
    assert "| top-1 accuracy | 0.070 | 0.570 |" in text and "| Kendall tau-b | n/a | 0.360 |" in text


def test_no_card_no_change(tmp_path):
    card_add_evaluation(tmp_path, RESULT)
    assert list(tmp_path.iterdir()) == []
