"""The preference loop's generate step: generation jobs that fill a round of prompts with candidates."""
