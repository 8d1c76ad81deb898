"""Cold timing holds copies of a layer, within a share of the free memory; an embedding's copies were counted by
the rows a call reads, not the table each copy holds, so a 2-layer BERT's word embedding (94 MB) was copied 256
times: 24 GB, all of this machine's memory."""

import torch
import torch.nn as nn

import hwprof
import hwprof.measuring.cache as cache
import hwprof.measuring.session as session

TABLE_BYTES = 50_000 * 64 * 4  # 12.8 MB, of which a call of 8 ids reads 2 kB


class Lookup(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(50_000, 64)

    def forward(self, ids):
        return self.table(ids)


def test_an_embeddings_copies_fit_the_memory_share_by_the_table_they_hold(monkeypatch):
    monkeypatch.setattr(session, "available_memory_bytes", lambda device: 400 * 2**20)  # share: 100 MB
    copies = []
    rotate = cache.rotating_call

    def counted(call, *args, **kwargs):
        run, label, made = rotate(call, *args, **kwargs)
        copies.append((call.memory_bytes(), made))
        return run, label, made

    monkeypatch.setattr(cache, "rotating_call", counted)
    ids = torch.randint(0, 50_000, (1, 8))
    hwprof.measure([(Lookup(), ids)], power="none", max_item_s=0.05, threads=1, sweep_share=0, cache="cold")
    held = sum(memory * made for memory, made in copies)
    assert copies and all(memory >= TABLE_BYTES for memory, _ in copies)
    assert held <= 100 * 2**20  # within the share, where 256 copies of the table took 3.3 GB
