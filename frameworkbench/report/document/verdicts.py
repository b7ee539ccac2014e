"""Step 2 of the document: a claim against a measurement gives a flag.

Pure functions of the claims (``claims.py``) and the facts (``facts.py``, ``grid.py``); each returns
one of ``agree``, ``partly``, ``disagree``, ``unknown``. The rules are stated in the notes under
each table (``method_notes.NOTES``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .claims import COLUMNS


def order_flag(doc: Mapping[str, float], measured: Mapping[str, float | None], col: str,
               higher_better: bool = True) -> str:
    """Compare the order the document's marks give ``col`` against every other column with the
    measured order: ``agree`` if every strict order of the document holds, ``partly`` if some
    are ties, ``disagree`` if one is reversed, ``unknown`` without figures."""
    mine = measured.get(col)
    if mine is None:
        return "unknown"
    results = []
    for other in (c.key for c in COLUMNS):
        if other == col or doc[other] == doc[col] or measured.get(other) is None:
            continue
        want = 1 if doc[col] > doc[other] else -1
        diff = mine - measured[other]
        got = 0 if diff == 0 else (1 if diff > 0 else -1)
        got = got if higher_better else -got
        results.append("agree" if got == want else ("partly" if got == 0 else "disagree"))
    if not results:
        return "unknown"
    if "disagree" in results:
        return "disagree"
    return "partly" if "partly" in results else "agree"


def combine(flags: Sequence[str]) -> str:
    """One flag from several parts: all agree → agree; all (known) disagree → disagree; else partly."""
    known = [f for f in flags if f != "unknown"]
    if not known:
        return "unknown"
    if all(f == "agree" for f in known):
        return "agree" if len(known) == len(flags) else "partly"
    if all(f == "disagree" for f in known):
        return "disagree"
    return "partly"


def api_levels(ran: set[str], claimed: frozenset[str]) -> str:
    """The API levels that trained the spec against the levels the document names."""
    if not ran:
        return "unknown"
    if ran == claimed:
        return "agree"
    return "partly" if not ran > claimed and ran & claimed else "disagree"


def production(claimed: Mapping[str, int], scores: Mapping[str, float | None], col: str) -> str:
    """✅ order against deployable formats; a ❌ contradicted by any working deployable format disagrees."""
    if claimed[col] == 0 and (scores.get(col) or 0) > 0:
        return "disagree"
    return order_flag(claimed, scores, col)


def dynamic(claim: Mapping[str, bool], eager_of: Mapping[str, bool | None], target: str, eager_works: bool) -> str:
    """Eager by default on the column's target (``eager_of``: the column's targets that ran). A claim of
    "not by default" also needs the eager variant to work; with ``other_target_partly`` eager on another
    of the column's targets is a partial match."""
    if claim.get("other_target_partly"):
        seen = [v for v in eager_of.values() if v is not None]
        if not seen:
            return "unknown"
        if bool(eager_of.get(target)) == claim["eager"]:
            return "agree"
        return "partly" if any(seen) == claim["eager"] else "disagree"
    if target not in eager_of:
        return "unknown"
    if claim["eager"]:
        return "agree" if eager_of[target] else "disagree"
    return "agree" if eager_of[target] is False and (eager_works or not claim.get("eager_works")) else "disagree"


def named(col: str, claimed: Sequence[str]) -> str:
    """The measured winner is one of the columns the document names."""
    return "agree" if col in claimed else "disagree"


def winners(won: Sequence[str], claimed: Sequence[str]) -> str:
    """The columns that share the top score against the one the document recommends."""
    if list(won) == list(claimed):
        return "agree"
    return "partly" if set(claimed) & set(won) else "disagree"


def library_support(checked: bool, trained: Sequence[str], claimed: Sequence[str]) -> str:
    """The columns whose framework a library trained a model in (``checked``: the library was checked at all)
    against the ones the document recommends it with."""
    if not checked:
        return "unknown"
    return winners(trained, claimed) if trained else "disagree"


def hidden_layers(ranked: Sequence[str], claimed: Sequence[str]) -> str:
    """Hidden activations ranked best first against the ones the document recommends."""
    listed = [i for i, h in enumerate(ranked) if h in claimed]
    unlisted = [i for i, h in enumerate(ranked) if h not in claimed]
    if not listed:
        return "unknown"
    if not unlisted or max(listed) < min(unlisted):
        return "agree"  # the document's activations rank above every other one
    if ranked[-1] not in claimed:
        return "partly"  # the last is one the document leaves out, but another it leaves out is above its own
    return "disagree"  # one the document recommends ranks last


def output_layer(ranked: Sequence[tuple[tuple[str, str], float]], claimed: str) -> str:
    """``ranked``: [(output × loss pair, mean rank)], best first; a tie with another activation is partly."""
    winner = ranked[0][0][0]
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1] and ranked[1][0][0] != winner:
        return "partly"
    return "agree" if winner == claimed else "disagree"


def activation(name: str, m: dict, others: Mapping[str, dict], dp: dict | None, relu_deep: dict | None,
               cheapest: tuple[int, int], multiclass_winner: str | None) -> list[str]:
    """The parts of an activation's row (see the note ``act_flags``): ``m`` its probe summary, ``others``
    every activation's, ``dp`` its deep-MLP figures, ``cheapest`` (frameworks where ReLU is cheapest, probed)."""
    lo, hi = m["range"]
    relu_g = (relu_deep or {}).get("g1_init")
    vanish = m["d_5"] < 0.01
    if dp and relu_g:
        vanish = vanish and (name != "sigmoid" or dp["g1_init"] < 0.1 * relu_g)
    flag = {True: "agree", False: "disagree"}
    if name == "sigmoid":
        return [flag[lo >= 0 and hi <= 1], flag[vanish]]
    if name == "tanh":
        return [flag[lo >= -1 and hi <= 1 and lo < 0 < hi], flag[abs(m["mean"]) < 0.05], flag[vanish]]
    if name == "relu":
        k, n = cheapest
        return ["agree" if 2 * k > n else "partly" if k else "disagree",
                "unknown" if not dp else flag[dp["dead_final"] > 0]]
    if name == "leaky_relu":
        return [flag[m["d_m5"] > 0]]
    if name == "elu":
        return [flag["relu" in others and m["jump"] < others["relu"]["jump"]], flag[(m["cost_median"] or 0) > 1]]
    if name == "softmax":
        return [flag[m["sum1"] < 1e-5], "unknown" if multiclass_winner is None else flag[multiclass_winner == name]]
    return []
