"""``metric.v1``: a threshold on one conversation metric (talk ratio, dead air, interruptions ...).

Parameters: ``metric`` (a :data:`callqa.metrics.METRIC_FIELDS` name), ``min``
and/or ``max`` (inclusive). Ratios are fractions (0.8 = 80 %). N/A when the
metric has no value (no agent speech for ``time_to_first_agent_word_s``) or
when it is about a role and the call's roles are unknown.
"""

from __future__ import annotations

from pydantic import field_validator, model_validator

from callqa.metrics import METRIC_FIELDS, metric_value
from callqa.rules.base import RULE_KINDS, CallContext, PackEnv, Rule, RuleHeader, Strict, Verdict, clock_span, seconds, who
from callqa.types import Evidence, Role, TimeSpan

MAX_EVIDENCE = 5


class MetricParams(Strict):
    metric: str
    min: float | None = None
    max: float | None = None

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in METRIC_FIELDS:
            import difflib

            close = difflib.get_close_matches(v, list(METRIC_FIELDS), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown metric {v!r}{hint}; known: {', '.join(METRIC_FIELDS)}")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> "MetricParams":
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        unit = METRIC_FIELDS.get(self.metric)
        for name in ("min", "max"):
            v = getattr(self, name)
            if v is None:
                continue
            if unit == "ratio" and not (0 <= v <= 1):
                raise ValueError(f"{name} {v:g} is out of range for {self.metric}; allowed 0-1 (a fraction: 0.8 = 80%)")
            if v < 0:
                raise ValueError(f"{name} {v:g} is out of range; allowed 0 or more")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is greater than max {self.max:g}")
        return self


def _fmt(metric: str, v: float) -> str:
    unit = METRIC_FIELDS[metric]
    if unit == "ratio":
        return f"{v * 100:.0f}%"
    if unit == "s":
        return seconds(v)
    if unit == "wpm":
        return f"{v:.0f} words/min"
    return f"{v:g}"


_LABEL = {
    "duration_s": "call duration", "agent_talk_s": "agent talk time", "customer_talk_s": "customer talk time",
    "agent_talk_ratio": "agent share of talk time", "customer_talk_ratio": "customer share of talk time",
    "silence_total_s": "total silence", "longest_silence_s": "longest silence", "silence_count": "silences",
    "overlap_total_s": "total overlapping speech", "overlap_count": "overlaps",
    "agent_interruptions": "agent interruptions", "customer_interruptions": "customer interruptions",
    "agent_wpm": "agent speaking rate", "customer_wpm": "customer speaking rate", "turns": "turns",
    "agent_turns": "agent turns", "customer_turns": "customer turns",
    "time_to_first_agent_word_s": "time to the agent's first word",
}


@RULE_KINDS.register("metric.v1")
class MetricThreshold(Rule):
    Params = MetricParams
    summary = "metric threshold: min and/or max on a conversation metric"

    def __init__(self, header: RuleHeader, params: MetricParams, env: PackEnv):
        super().__init__(header, params, env)
        self.metric = params.metric

    def check(self, ctx: CallContext) -> Verdict:
        p = self.params
        label = _LABEL.get(p.metric, p.metric)
        role_bound = p.metric.startswith(("agent_", "customer_", "time_to_first_agent"))
        if role_bound and not ctx.roles_known:
            return Verdict.na(f"Not applicable: speaker roles are unknown for this call, so the {label} cannot be measured")
        value = metric_value(ctx.metrics, p.metric)
        if value is None:
            return Verdict.na(f"Not applicable: no {label} on this call (nobody in that role spoke)")
        limits = []
        if p.min is not None:
            limits.append(f"at least {_fmt(p.metric, p.min)}")
        if p.max is not None:
            limits.append(f"at most {_fmt(p.metric, p.max)}")
        ok = (p.min is None or value >= p.min - 1e-9) and (p.max is None or value <= p.max + 1e-9)
        text = f"{label[:1].upper() + label[1:]} {_fmt(p.metric, value)}{self._detail(ctx)}; " \
               f"{'within' if ok else 'outside'} the limit ({' and '.join(limits)})"
        evidence = self._evidence(ctx)
        return Verdict.passed(text, evidence) if ok else Verdict.failed(text, evidence)

    def _detail(self, ctx: CallContext) -> str:
        m = ctx.metrics
        if self.metric == "longest_silence_s" and m.silences:
            s = max(m.silences, key=lambda s: (s.span.duration, -s.span.start))
            return f" ({clock_span(s.span)}, after {who(s.before)}, before {who(s.after)})"
        if self.metric in ("agent_talk_ratio", "customer_talk_ratio"):
            return f" (agent {seconds(m.agent_talk_s)}, customer {seconds(m.customer_talk_s)})"
        return ""

    def _evidence(self, ctx: CallContext) -> list[Evidence]:
        m, metric = ctx.metrics, self.metric
        conv = ctx.conversation

        def note(span: TimeSpan, text: str, role: Role | None = None) -> Evidence:
            return Evidence(turn_index=None, char_start=0, char_end=0, span=span, excerpt=text, role=role)

        if metric in ("longest_silence_s", "silence_total_s", "silence_count"):
            silences = sorted(m.silences, key=lambda s: (-s.span.duration, s.span.start))[:MAX_EVIDENCE]
            return [note(s.span, f"silence {clock_span(s.span)} ({seconds(s.span.duration)}) after {who(s.before)}, "
                                 f"before {who(s.after)}") for s in sorted(silences, key=lambda s: s.span.start)]
        if metric in ("overlap_total_s", "overlap_count", "agent_interruptions", "customer_interruptions"):
            want = {"agent_interruptions": Role.AGENT, "customer_interruptions": Role.CUSTOMER}.get(metric)
            overlaps = [o for o in m.overlaps if want is None or o.interrupter == want][:MAX_EVIDENCE]
            return [note(o.span, f"{who(o.interrupter)} talked over the {who(o.interrupted)} {clock_span(o.span)} "
                                 f"({seconds(o.span.duration)})", o.interrupter) for o in overlaps]
        if metric == "time_to_first_agent_word_s" and m.time_to_first_agent_word_s is not None:
            return [note(TimeSpan(0.0, m.time_to_first_agent_word_s), f"from the start to the agent's first word "
                                                                     f"({seconds(m.time_to_first_agent_word_s)})")]
        role = Role.AGENT if metric.startswith("agent_") else Role.CUSTOMER if metric.startswith("customer_") else None
        return [note(conv, f"{_LABEL.get(metric, metric)} {_fmt(metric, metric_value(m, metric) or 0.0)} over "
                           f"{clock_span(conv)}", role)]


__all__ = ["MetricParams", "MetricThreshold"]
