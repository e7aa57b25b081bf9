"""The two evaluation protocols and the paper's prompt formats.

``ts2``  : ts2's own definitions (documented in ``ts2.metrics``); the default.
``paper``: the TS² authors' definitions, reproduced exactly from xzy-bit/TS-2-ICLR-2026
           (``ts2.metrics.paper``), quirks included, so numbers can be set beside the paper's.

HumanEval for chat models (the authors' evaluation/text2code.py): the problem goes to the model
through its chat template inside an instruction, the assistant turn is pre-filled with a code
fence and the problem's prompt, and each completion is cut at its first closing fence.
"""

from __future__ import annotations

from functools import partial

PROTOCOLS = ("ts2", "paper")
CODE_PROMPT_STYLES = ("completion", "chat")

# The authors' text, verbatim (their MAGICODER_PROMPT and map_humaneval_problem).
CODE_INSTRUCTION = ("You are an exceptionally intelligent coding assistant that consistently delivers accurate and "
                    "reliable responses to user instructions.\n\n@@ Instruction\n{instruction}\n")
HUMANEVAL_INSTRUCTION = "Write a solution to the following problem:\n```python\n{prompt}\n```"
# Their f-string puts four spaces before the prompt's first line; kept, since it is what the model saw.
HUMANEVAL_PREFILL = "```python\n    {prompt}"
FENCE = "```"

# The authors' OpenLLM prompts, verbatim (their openllm_evaluation.py GSM_TEMPLATE and MC_TEMPLATE,
# trailing spaces and the typographic apostrophe included): each goes to the model as the user turn.
GSM8K_TEMPLATE = ("Your task is to answer the question below. \n"
                  "Give step by step reasoning before you answer, and when you\u2019re ready to answer, \n"
                  "please use the format \"The answer is: ...\"\n\nQuestion: {question}\n")
CHOICE_TEMPLATE = """You will be given a question with multiple-choice answers.
Think step by step briefly, then give ONLY the final choice letter.

Question:
{question}

Choices:
{choices}

When you are ready, answer strictly in the format:
The answer is: X
(where X is one of A, B, C, D or E).
"""


def task_prompt(question: str, choices: list[str] | None) -> str:
    """The authors' user turn for one OpenLLM question: GSM8K's template without choices, else
    the multiple-choice one with the choices lettered A., B., ... one a line."""
    if choices is None:
        return GSM8K_TEMPLATE.format(question=question)
    lettered = "\n".join(f"{'ABCDE'[i]}. {choice}".strip() for i, choice in enumerate(choices))
    return CHOICE_TEMPLATE.format(question=question, choices=lettered)


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    return protocol


def humaneval_chat_prompt(problem_prompt: str) -> tuple[list[dict], str]:
    """(messages, assistant prefill) for one HumanEval problem, as the authors ask chat models."""
    prompt = problem_prompt.strip()
    instruction = HUMANEVAL_INSTRUCTION.format(prompt=prompt)
    messages = [{"role": "user", "content": CODE_INSTRUCTION.format(instruction=instruction)}]
    return messages, HUMANEVAL_PREFILL.format(prompt=prompt)


def cut_at_fence(completion: str) -> str:
    """The completion up to its first code fence (all of it when there is none)."""
    index = completion.find(FENCE)
    return completion if index == -1 else completion[:index]


def paper_word_tokenizer():
    """(tokenize, description): nltk's ``word_tokenize`` as the authors call it when nltk's punkt
    sentence model is installed; otherwise the same tokenizer without the sentence split
    (``preserve_line=True``), which differs only where a sentence-final period is not at the end
    of the text (it then stays attached to its word)."""
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return nltk.word_tokenize, "nltk.word_tokenize (punkt sentence split)"
    except LookupError:
        return (partial(nltk.word_tokenize, preserve_line=True),
                "nltk.word_tokenize(preserve_line=True): nltk's punkt data is not installed, so no sentence split")
