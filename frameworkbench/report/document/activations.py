"""Table 3, "Main activation functions": the document's rows with measured evidence, the probe's and the
deep MLP's tables, and a plot of every activation per framework."""
from __future__ import annotations

from .. import plots
from ..i18n import ACTIVATION_DOC, plot_text
from ..markdown import table
from . import facts as F
from . import grid as G
from . import verdicts
from .doc import Doc
from .fmt import fnum, fratio

DEAD_OR_NEGATIVE = ("relu", "leaky_relu", "elu")  # activations whose units can be ≤ 0 on every row


class _Evidence:
    """What the row of one activation cites: probe summaries, deep-MLP figures, the grid's multiclass winner."""

    def __init__(self, d: Doc) -> None:
        self.probe = F.probes(d.f)
        self.deep = F.deep(d.f)
        summaries = {a: F.activation_summary(self.probe, a) for a in F.ACTIVATION_ORDER} if self.probe else {}
        self.agg = {a: m for a, m in summaries.items() if m is not None}
        self.winner = G.layer_winner(G.cells(d.f), "multiclass")


def _parts(d: Doc, a: str, m: dict, ev: _Evidence) -> list[str]:
    """The measured figures in an activation's row, in the order the row shows them."""
    t, dp, relu = d.t, ev.deep.get(a), ev.deep.get("relu")
    parts = [f"{t('range')}: [{fnum(m['range'][0], 4)}, {fnum(m['range'][1], 4)}]"]
    if a in ("sigmoid", "tanh"):
        parts.append(f"{t('max_f')} {fnum(m['max_d'])}, f′(±5) {fnum(m['d_5'])}")
        if a == "tanh":
            sig = f" (sigmoid {fnum(ev.agg['sigmoid']['mean'])})" if "sigmoid" in ev.agg else ""
            parts.append(f"{t('mean_normal')}: {fnum(m['mean'])} ± {fnum(m['sem'], 2)}{sig}")
        if dp and relu and relu.get("g1_init"):
            parts.append(f"{t('grad_first_init')}: {fnum(dp['g1_init'])} (ReLU {fnum(relu['g1_init'])})")
    if a == "relu":
        parts.append(t("cheapest", k=len(F.relu_cheapest(ev.probe)), n=len(ev.probe)))
    if a in DEAD_OR_NEGATIVE and dp:
        what = t("dead_units") if a == "relu" else t("negative_units")
        parts.append(f"{what}: {100 * dp['dead_init']:.1f} % → {100 * dp['dead_final']:.1f} %")
    if a == "leaky_relu":
        parts.append(f"f′(−5) = {fnum(m['d_m5'])} → {t('zero_grad_units')}: 0"
                     + (f" (ReLU: {100 * relu['dead_final']:.1f} %)" if relu else ""))
    if a == "elu":
        parts.append(f"{t('jump_0')}: {fnum(m['jump'])}"
                     + (f" (ReLU {fnum(ev.agg['relu']['jump'])})" if "relu" in ev.agg else ""))
        parts.append(f"{t('cost_rel')}: {fratio(m['cost_median'])}")
    if a == "softmax":
        parts.append(f"{t('max_sum')} {fnum(m['sum1'])}")
        if ev.winner:
            parts.append(f"{t('best_multiclass')}: {d.act(ev.winner[0])} ({fnum(ev.winner[1], 4)})")
    return parts


def _document_rows(d: Doc, ev: _Evidence) -> list[list[str]]:
    rows = []
    cheapest = (len(F.relu_cheapest(ev.probe)), len(ev.probe))
    for a in F.ACTIVATION_ORDER:
        m, doc = ev.agg.get(a), ACTIVATION_DOC[a]
        if m is None:
            rows.append([d.act(a), doc["formula"], doc[d.lang], d.missing("activations", "probe"), d.flag("unknown")])
            continue
        flags = verdicts.activation(a, m, ev.agg, ev.deep.get(a), ev.deep.get("relu"), cheapest,
                                    ev.winner[0] if ev.winner else None)
        rows.append([d.act(a), doc["formula"], doc[d.lang], "; ".join(_parts(d, a, m, ev)),
                     d.flag(verdicts.combine(flags))])
    return rows


def _properties_row(d: Doc, a: str, m: dict) -> list[str]:
    d0 = sorted(m["d0"].items(), key=lambda kv: F.target_key(kv[0]))
    same = len({round(v, 6) for _, v in d0}) == 1
    d0_txt = fnum(d0[0][1]) if same else ", ".join(f"`{k}` {fnum(v)}" for k, v in d0)
    return [d.act(a), f"[{fnum(m['range'][0], 4)}, {fnum(m['range'][1], 4)}]",
            f"{fnum(m['max_d'])} ({fnum(m['max_d_at'])})", f"{fnum(m['d_m5'])} / {fnum(m['d_5'])}",
            fnum(m["jump"]), f"{fnum(m['mean'])} ± {fnum(m['sem'], 2)}", fratio(m["cost_median"]),
            f"{fnum(m['y_between'], 2)} / {fnum(m['dy_between'], 2)}",
            f"{fnum(m['ref_y'], 2)} / {fnum(m['ref_dy'], 2)}", f"{d0_txt} (numpy {fnum(m['d0_ref'])})"]


def _probe_tables(d: Doc, ev: _Evidence) -> list[str]:
    t = d.t
    if not ev.agg:
        return [d.missing("activations", "probe"), ""]
    rows = [_properties_row(d, a, ev.agg[a]) for a in F.ACTIVATION_ORDER if a in ev.agg]
    out = [f"**{t('measured_properties')}** ({len(ev.probe)}: {', '.join(f'`{k}`' for k in ev.probe)})", "",
           table([t("activation"), t("range"), t("max_deriv"), t("deriv_5"), t("jump_0"), t("mean_normal"),
                  t("cost_rel"), t("delta_frameworks"), t("delta_reference"), t("deriv_at_0")], rows), ""]
    targets = list(ev.probe)
    rows = [[d.act(a), *(fratio(ev.agg[a]["cost"].get(tg)) for tg in targets)]
            for a in F.ACTIVATION_ORDER if a in ev.agg]
    rows.append([t("relu_abs"), *(d.fs(F.cost_s(ev.probe[tg], "relu")) for tg in targets)])
    return out + [f"**{t('cost_table')}**", "", table([t("activation"), *(f"`{x}`" for x in targets)], rows,
                                                      ["l"] + ["r"] * len(targets)), ""]


def _deep_table(d: Doc, deep: dict[str, dict]) -> list[str]:
    t = d.t
    if not deep:
        return [d.missing("activations", "deep"), ""]
    first = next(iter(deep.values()))
    rows = [[d.act(a), f"{fnum(dp['value'], 4)} ({dp['n']})", fnum(dp["g1_init"]), fnum(dp["g1_final"]),
             fnum(dp["g1_init"] / dp["glast_init"] if dp["glast_init"] else None),
             f"{100 * dp['dead_init']:.1f} % → {100 * dp['dead_final']:.1f} %"] for a, dp in deep.items()]
    metric = t("metric_" + first["metric"].removeprefix("val_"))
    out = [f"**{t('deep_table', dataset=first['dataset'])}**", "",
           table([t("hidden_activation"), t("val_metric", metric=metric), t("grad_first_init"), t("grad_first_final"),
                  t("grad_ratio"), t("negative_units")], rows), ""]
    norms = {d.act(a): dp["per_layer_init"] for a, dp in deep.items()}
    shares = {d.act(a): (dp["dead_init"], dp["dead_final"]) for a, dp in deep.items() if a in DEAD_OR_NEGATIVE}
    out += [d.plot("gradient_norms", lambda p: plots.gradient_norms(p, norms, d.lang), t("grad_plot")), ""]
    if shares:
        out += [d.plot("dead_units", lambda p: plots.dead_units(p, shares, d.lang), t("dead_plot")), ""]
    return out


def _activation_plots(d: Doc, probe: dict[str, dict]) -> list[str]:
    """f and f′ of every activation per framework, against the numpy reference."""
    if not probe:
        return []
    import numpy as np

    from ... import activations as ref_act
    from ...spec import Activation

    x = F.probe_x(probe)
    out = []
    for a in F.ACTIVATION_ORDER:
        curves = F.curves(probe, a)
        if not curves:
            continue
        act = Activation(a, F.params(probe, a))
        inputs = np.zeros((len(x), 3))
        inputs[:, 0] = x
        ref = (ref_act.forward(act, inputs)[:, 0].tolist(), ref_act.derivative(act, inputs)[:, 0].tolist())
        title = plot_text("softmax_title", d.lang) if a == "softmax" else d.act(a)
        out += [d.plot(f"activation_{a}", lambda p, c=curves, r=ref, n=title: plots.activation(p, n, x, c, r, d.lang),
                       d.t("activation_plot", name=d.act(a))), ""]
    return out


def activations(d: Doc) -> list[str]:
    t = d.t
    ev = _Evidence(d)
    out = [table([t("col_name"), t("col_formula"), f"{t('doc_says')}: {t('col_features')}", t("measured"),
                  t("agreement")], _document_rows(d, ev)), ""]
    out += _probe_tables(d, ev) + _deep_table(d, ev.deep) + _activation_plots(d, ev.probe)
    method = next(iter(ev.deep.values()))["method"] if ev.deep else "—"
    return out + d.notes([t.note("act_probe"), t.note("act_cost"), t.note("act_deep", method=method),
                          t.note("act_flags")])
