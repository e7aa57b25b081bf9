"""The plain reference sampler the native sampler's tokens are checked against."""

import torch

from ts2.generate.native import Decoding
from ts2.ops.sampling import draw_tokens


def reference_samples(model, prompt: list[int], keys: list[int], decoding: Decoding) -> list[list[int]]:
    """Each sample alone, the whole sequence through the model at every step (no cache, no padding,
    Transformers' own attention), drawn with the sample's key."""
    out = []
    for key in keys:
        tokens = []
        for step in range(decoding.max_new_tokens):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([prompt + tokens])).logits[:, -1]
            draw = draw_tokens(logits, torch.tensor([key]), step, decoding.temperature, decoding.top_k,
                               decoding.top_p, decoding.decode)
            tokens.append(int(draw.tokens[0]))
            if tokens[-1] in decoding.stop_ids:
                break
        out.append(tokens)
    return out
