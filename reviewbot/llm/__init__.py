"""Model-assisted review through any OpenAI-compatible endpoint (OpenAI, llama.cpp, vLLM, Ollama).

The I/O side of the model: prompts read from `reviewbot/prompts/`, one chat request (and at
most one repair) per review, every failure turned into a visible note. What the
model is shown and what the review keeps of its answer are pure decisions in
`reviewbot.review.model_input` and `reviewbot.review.model_answer`.
"""
