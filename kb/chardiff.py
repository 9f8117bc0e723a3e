"""Character-level diff of two Chinese texts: diff-match-patch with semantic clean-up.

Shared by the linker's evidence (provincial -> city) and the diff reports (old -> new); the
offset keys name the two sides in the vocabulary of each.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch

_dmp = diff_match_patch()
_dmp.Diff_Timeout = 0.5


def char_spans(a: str, b: str, keys: tuple[str, str] = ("old_at", "new_at")) -> list[dict]:
    """Deleted and inserted spans turning a into b, with the offset of each on both sides."""
    diffs = _dmp.diff_main(a, b)
    _dmp.diff_cleanupSemantic(diffs)
    a_key, b_key = keys
    spans = []
    at_a = at_b = 0
    for op, text in diffs:
        if op == 0:
            at_a += len(text)
            at_b += len(text)
        elif op == -1:
            spans.append({"op": "delete", "text": text, a_key: at_a, b_key: at_b})
            at_a += len(text)
        else:
            spans.append({"op": "insert", "text": text, a_key: at_a, b_key: at_b})
            at_b += len(text)
    return spans
