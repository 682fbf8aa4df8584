"""QA rule packs: YAML rule packs, rule kinds (versioned plug-ins) and their verdicts.

``load_pack(path)`` validates and compiles a pack; the scorer
(``callqa.scoring.Scorer``) runs it on transcripts. Rule kinds register
themselves in :data:`RULE_KINDS` when their module is imported (all of them
are imported here): ``phrase.v1``, ``forbidden_phrase.v1``, ``all.v1``,
``any.v1``, ``not.v1``, ``near.v1``, ``conditional.v1``, ``conditional.v2``, ``metric.v1``,
``privacy.v1``. ``docs/rules.md`` is the reference a QA analyst reads.
"""

from callqa.rules.base import RULE_KINDS, CallContext, Rule, RuleHeader, Verdict
from callqa.rules import composition, conditional, metric, phrases, privacy  # noqa: F401  (register kinds)
from callqa.rules.pack import RulePack, greeting_phrases, load_pack, pack_from_text

__all__ = [
    "RULE_KINDS", "CallContext", "Rule", "RuleHeader", "RulePack", "Verdict", "greeting_phrases", "load_pack",
    "pack_from_text",
]
