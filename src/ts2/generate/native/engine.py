"""ts2's batched sampler as an ``Engine``: prompts grouped by a token budget, each group sampled by
``sample_prompts`` on a Transformers model in this process."""

from __future__ import annotations

from ..engine import Sample
from ..settings import Runtime, SamplingSettings, batches
from .loop import Decoding, sample_prompts


class NativeEngine:
    """A Transformers model and tokenizer sampled by ``sample_prompts`` (``Engine``)."""

    name = "native"
    recorded: dict = {}  # rows of the native engine record no engine (as files before engines had)

    def __init__(self, model, tokenizer, onednn: bool = True):
        from ...hf.loading import stop_token_ids

        self.model, self.tokenizer, self.onednn = model, tokenizer, onednn
        self.dtype_name = str(model.dtype).removeprefix("torch.")
        self.stop_ids = frozenset(stop_token_ids(tokenizer, model.generation_config))

    @classmethod
    def load(cls, resolved, runtime: Runtime) -> NativeEngine:
        from ...hf.loading import load_model

        model, tokenizer = load_model(resolved, runtime.device, runtime.dtype)
        return cls(model, tokenizer, runtime.onednn)

    def groups(self, lengths: list[int], settings: SamplingSettings, batch_tokens: int) -> list[range]:
        """Batches within the token budget."""
        return batches(lengths, settings.n, settings.max_new_tokens, batch_tokens)

    def sample_group(self, ids: list[str], rendered: list[list[int]], settings: SamplingSettings) -> list[list[Sample]]:
        from ...ops.sampling import sample_key

        decoding = Decoding(settings.temperature, settings.top_k, settings.top_p, settings.decode,
                            settings.max_new_tokens, self.stop_ids, tuple(settings.stop),
                            settings.record_token_probs)
        keys = [[sample_key(settings.seed, i, j) for j in range(settings.n)] for i in ids]
        tok = self.tokenizer
        return sample_prompts(self.model, rendered, keys, decoding, tok.pad_token_id,
                              lambda token_ids: tok.decode(token_ids, skip_special_tokens=True), self.onednn)

    def close(self) -> None:
        """Nothing beyond this object: the model goes with it."""
