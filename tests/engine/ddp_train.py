"""Run by test_distributed.py under ``accelerate launch``: train, then dump this process's LoRA weights
and how many reference batches it scored."""

import json
import sys

import torch
from accelerate import PartialState

from training.engine import RankedGRPOConfig
from training.engine import trainer as trainer_module
from training.engine.trainer import build_trainer, end_distributed


def ddp_config(model_dir: str, data_path: str, out_dir: str, budget: int | None = None, **overrides) -> RankedGRPOConfig:
    values = dict(output_dir=out_dir, model_name_or_path=model_dir, data_path=data_path, max_steps=3,
                  per_device_train_batch_size=2, learning_rate=5e-3, lora_r=4, max_length=64, max_prompt_length=32,
                  logging_steps=1, save_strategy="no", disable_tqdm=True, use_cpu=True, max_tokens_per_batch=budget)
    return RankedGRPOConfig(**(values | overrides))


def count_calls(function, counter: list):
    def counted(*args, **kwargs):
        counter.append(1)
        return function(*args, **kwargs)

    return counted


if __name__ == "__main__":
    model_dir, data_path, out_dir = sys.argv[1:4]
    budget = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    overrides = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}  # more config fields, as JSON
    reference_batches: list = []
    scorer = trainer_module.batch_response_logps
    trainer_module.batch_response_logps = count_calls(scorer, reference_batches)
    trainer, _ = build_trainer(ddp_config(model_dir, data_path, out_dir, budget, **overrides))
    trainer_module.batch_response_logps = scorer
    trainer.train()
    state = PartialState()
    weights = {name: p.detach().cpu() for name, p in trainer.accelerator.unwrap_model(trainer.model).named_parameters()
               if "lora_" in name}
    torch.save({"world_size": state.num_processes, "weights": weights, "reference_batches": len(reference_batches)},
               f"{out_dir}/rank{state.process_index}.pt")
    end_distributed()
