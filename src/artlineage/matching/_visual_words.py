"""Visual words: an inverted file from quantised ORB descriptors to the works holding them.

The copy detector's second first stage (docs/copy-detection.md, "Against 10 M works"). Window pHashes
rank a hard crop's source among the nearest works at 100 k, but at 10 M millions of unrelated windows
sit as close as its source. A crop keeps most of its source's local features, though: each stored ORB
descriptor is quantised to a *visual word*, each word lists the works holding it, and a query votes
for the works sharing its words (bag of visual words: Sivic & Zisserman 2003; for binary descriptors
Gálvez-López & Tardós 2012).

The word is 24 fixed bits of the 256-bit descriptor (bit sampling, the locality-sensitive hash of
Hamming space; Indyk & Motwani 1998): no vocabulary to train or ship, the same words for every index
and for works added later, so segments of an index share one word space. ORB's tests were chosen
to be uncorrelated and balanced (Rublee et al. 2011), which is what bit sampling needs; a true
match differing in d of 256 bits keeps its word with probability (1 - d/256)^24. Measured on 1 000
real photographs (benchmarks/bench_visual_words.py, 150 sources per edit): 24 bits put the source of
a >= 60 %-area crop first for 98.0 % of queries (window hashes: 76.7 %), of a mirrored crop for
94.7 %, and score it >= 5.7 standard deviations above the other works' mean for 95 % of the queries of
every hard-crop edit (3.4 / 5.8 / 4.7 with 16 / 20 / 28 bits; 20 bits rank alike but make 16x fewer
words, so longer lists to read at 10 M works); that margin is what keeps it on top among 10 M
works. Thumbnails are the words' weak spot (a 160 px copy keeps few features: first for 89 %) and
the window hashes' strength (100 %): the detector uses both. A trained vocabulary (k-means over descriptors, DBoW2) was not tried: it would
have to be shipped or learned per index, and bit sampling already separates copies this well.

Written here rather than taken from a library: faiss, the index this project uses, has no
inverted file that counts shared words per document, and search engines (Lucene, Tantivy) would be
a server or a heavy dependency for a 150-line posting list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

WORD_BITS = 24
# The sampled bits are part of the index format (stored words must be computed the same way): a
# fixed draw, never changed without a format version.
_BITS = np.sort(np.random.default_rng(20261201).choice(256, WORD_BITS, replace=False))
BIT_SAMPLE_ID = "rng20261201-24"   # saved with an index: posting lists from another sampling are rebuilt
QUERY_FEATURES = 250      # the query's strongest features that vote (per orientation)
# A word held by more than 16x the average list's works does not vote (the average is >= 1, so lists
# of up to 16 works always vote: a work registered several times keeps its votes). 4x measured worse:
# among 100 k works fingerprinted from real pixels - crowds of edits of 700 photographs - a crop's
# robust words are common ones, and 4x left 352/360 copies found, 16x and 64x 355/360.
STOP_FACTOR = 16.0
CHUNK_WORKS = 65_536      # works per chunk when building (bounded memory at 10 M works)


def words_of(desc: np.ndarray) -> np.ndarray:
    """uint32 visual word of each (n, 32) uint8 ORB descriptor: its bits ``_BITS`` (numbered as
    ``np.unpackbits`` does, most significant bit of byte 0 first), read byte by byte so a chunk of
    millions of descriptors needs no (n, 256) unpacked copy."""
    d = np.asarray(desc, np.uint8)
    out = np.zeros(len(d), np.uint32)
    for j, b in enumerate(_BITS.tolist()):
        out |= ((d[:, b >> 3] >> (7 - (b & 7))) & 1).astype(np.uint32) << np.uint32(j)
    return out


@dataclass
class WordIndex:
    """Posting lists (compressed rows): ``vocab`` sorted words, ``offsets`` into ``rows`` (int32
    index rows, ascending within a word, each (word, row) once)."""

    vocab: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    n_rows: int

    @property
    def nbytes(self) -> int:
        return int(self.vocab.nbytes + self.offsets.nbytes + self.rows.nbytes)

    def stop_df(self) -> int:
        """Lists longer than this are stop words (skipped at query time)."""
        if not len(self.vocab):
            return 0
        return max(1, int(STOP_FACTOR * len(self.rows) / len(self.vocab)))

    def without(self, keep: np.ndarray, first: int) -> tuple["WordIndex", int]:
        """These lists (a part whose rows start at index row ``first``) without the index rows ``keep``
        drops, renumbered as the rows left; with this part's first row after the drop."""
        new_first = int(np.count_nonzero(keep[:first]))
        n_rows = int(np.count_nonzero(keep[first:first + self.n_rows]))
        if not len(self.vocab):
            return WordIndex(self.vocab, self.offsets, self.rows, n_rows), new_first
        rows = np.asarray(self.rows).astype(np.int64) + first
        kept = np.zeros(len(rows), bool)
        valid = (rows >= 0) & (rows < len(keep))    # a damaged list's impossible rows are dropped too
        kept[valid] = keep[rows[valid]]
        counts = np.add.reduceat(kept.astype(np.int64), np.asarray(self.offsets[:-1])) if len(rows) else np.zeros(0, np.int64)
        alive = counts > 0
        new_row = np.cumsum(keep) - 1                # index row -> row after the drop
        return WordIndex(np.asarray(self.vocab)[alive], np.concatenate([[0], np.cumsum(counts[alive])]).astype(np.int64),
                         (new_row[rows[kept]] - new_first).astype(np.int32), n_rows), new_first

    def lists(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) in ``rows`` of each present, non-stop word of ``words``."""
        if not len(self.vocab) or not len(words):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos = np.minimum(np.searchsorted(self.vocab, words), len(self.vocab) - 1)
        pos = pos[self.vocab[pos] == words]
        start, end = np.asarray(self.offsets[pos]), np.asarray(self.offsets[pos + 1])
        keep = (end - start) <= self.stop_df()
        return start[keep], end[keep]

    def gather(self, words: np.ndarray) -> np.ndarray:
        """Rows of every work holding one of ``words`` (a row once per shared word)."""
        start, end = self.lists(words)
        if not len(start):
            return np.zeros(0, np.int32)
        return np.concatenate([self.rows[a:b] for a, b in zip(start.tolist(), end.tolist())])


def query_words(desc: np.ndarray) -> np.ndarray:
    """The distinct words of a query's strongest ``QUERY_FEATURES`` features (strongest come first)."""
    return np.unique(words_of(np.asarray(desc)[:QUERY_FEATURES]))


def top_rows(indexes: list[tuple[WordIndex, int]], plain: np.ndarray, mirrored: np.ndarray | None,
             k: int) -> list[tuple[int, int, bool]]:
    """(row, shared words, mirrored) of the ``k`` rows sharing most words with the query, over one or
    more word indexes (``(index, first row)``: a base and its appended segments). Counting is a sort
    of the gathered rows (numpy's SIMD sort) and a run-length count: O(postings touched), never a
    dense array of every work."""
    got = []
    for orientation, words in enumerate((plain, mirrored)):
        if words is None or not len(words):
            continue
        for index, first in indexes:
            r = index.gather(words)
            if len(r):
                got.append((r.astype(np.int64) + first) * 2 + orientation)
    if not got:
        return []
    keys = np.sort(np.concatenate(got))
    edge = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate([[0], edge])
    counts = np.diff(np.concatenate([starts, [len(keys)]]))
    ids = keys[starts]
    k = min(k, len(ids))
    # the k largest counts (which of several rows tied at the k-th count is kept is arbitrary but
    # deterministic: a full sort of every touched row would cost more than the rest of the query)
    top = np.argpartition(-counts, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
    top = top[np.lexsort((ids[top], -counts[top]))]
    out, seen = [], set()
    for i in top.tolist():
        row = int(ids[i] // 2)
        if row in seen:             # the weaker orientation of a row already listed
            continue
        seen.add(row)
        out.append((row, int(counts[i]), bool(ids[i] % 2)))
    return out


def build(chunks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]], n_rows: int) -> WordIndex:
    """A ``WordIndex`` from ``chunks()``: an iterator of (words uint32, rows) arrays, rows ascending
    from chunk to chunk; called twice (count, then fill), so memory stays one chunk plus the result
    (what a 10 M-work index needs: 2.5 G postings do not sort in memory at once)."""
    counts = np.zeros(1 << WORD_BITS, np.int64)
    for words, rows in chunks():
        counts += np.bincount(_unique_keys(words, rows) >> 32, minlength=1 << WORD_BITS)
    present = np.flatnonzero(counts)
    vocab = present.astype(np.uint32)
    offsets = np.concatenate([[0], np.cumsum(counts[present])]).astype(np.int64)
    out_rows = np.empty(int(offsets[-1]), np.int32)
    cursor = np.zeros(1 << WORD_BITS, np.int64)
    cursor[present] = offsets[:-1]
    for words, rows in chunks():
        keys = _unique_keys(words, rows)
        w = (keys >> 32).astype(np.int64)
        first = np.concatenate([[True], w[1:] != w[:-1]])
        run_start = np.flatnonzero(first)
        rank = np.arange(len(keys)) - np.repeat(run_start, np.diff(np.concatenate([run_start, [len(keys)]])))
        out_rows[cursor[w] + rank] = (keys & 0xFFFFFFFF).astype(np.int32)
        uw = w[run_start]
        cursor[uw] += np.diff(np.concatenate([run_start, [len(keys)]]))
    return WordIndex(vocab, offsets, out_rows, n_rows)


def _unique_keys(words: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sorted distinct (word << 32 | row) keys: a work holding a word twice lists it once."""
    keys = np.sort((np.asarray(words, np.uint64) << np.uint64(32)) | np.asarray(rows, np.uint64))
    if len(keys) > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return keys


def from_features(desc: np.ndarray, feat_offsets: np.ndarray, n_rows: int) -> WordIndex:
    """The word index of a copy index's stored descriptors (``CopyIndex.desc`` / ``feat_offsets``),
    built in chunks of ``CHUNK_WORKS`` works."""
    offsets = np.asarray(feat_offsets)

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for a in range(0, n_rows, CHUNK_WORKS):
            b = min(n_rows, a + CHUNK_WORKS)
            lo, hi = int(offsets[a]), int(offsets[b])
            rows = np.repeat(np.arange(a, b, dtype=np.int64), np.diff(offsets[a:b + 1]))
            yield words_of(np.asarray(desc[lo:hi])), rows
    return build(chunks, n_rows)
