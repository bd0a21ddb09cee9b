"""The one place Bastion's own red-team plugins are registered: ``name = "module:Class"``.

Adding a built-in probe, converter, strategy, target or scorer is one file in its folder
(``probes/``, ``converters/``...) and one line here. The values have the form of entry-point
values and load through the same registry code as third-party plugins, which declare entry
points in the ``bastion.redteam.<kind>`` groups of their own package.
"""

from __future__ import annotations

_P = "bastion.redteam.probes._harmful"
_J = "bastion.redteam.probes._jailbreak"
_I = "bastion.redteam.probes._injection"
_L = "bastion.redteam.probes._leak"
_D = "bastion.redteam.probes._data"
_C = "bastion.redteam.converters._encoding"
_CT = "bastion.redteam.converters._text"
_S = "bastion.redteam.strategies._strategies"
_T = "bastion.redteam.targets._openai"
_SC = "bastion.redteam.scorers._core"
_O = "bastion.redteam.probes._owasp"
_SO = "bastion.redteam.scorers._owasp"
_F = "bastion.redteam.probes._findings"

BUILTIN: dict[str, dict[str, str]] = {
    "probes": {
        "harmful": f"{_P}:HarmfulRequests",
        "jailbreak": f"{_J}:JailbreakTemplates",
        "many_shot": f"{_J}:ManyShot",
        "injection_direct": f"{_I}:DirectInjection",
        "injection_indirect": f"{_I}:IndirectInjection",
        "system_prompt_extraction": f"{_L}:SystemPromptExtraction",
        "pii_leak": f"{_L}:SecretLeakage",
        "capability": f"{_L}:CapabilityElicitation",
        "dataset": f"{_D}:DatasetProbe",
        "output_handling": f"{_O}:OutputHandling",
        "misinformation": f"{_O}:Misinformation",
        "consumption": f"{_O}:UnboundedConsumption",
        "rag_leak": f"{_O}:RetrievalLeak",
        "purpose": "bastion.redteam.probes._purpose:PurposeProbe",
        "cases_file": "bastion.redteam.probes._file:CasesFile",
        "findings": f"{_F}:FindingsProbe",
    },
    "converters": {
        "base64": f"{_C}:Base64",
        "hex": f"{_C}:Hex",
        "rot13": f"{_C}:Rot13",
        "caesar": f"{_C}:Caesar",
        "braille": f"{_C}:Braille",
        "morse": f"{_C}:Morse",
        "upside_down": f"{_C}:UpsideDown",
        "leetspeak": f"{_C}:Leetspeak",
        "homoglyph": f"{_C}:Homoglyph",
        "zero_width": f"{_C}:ZeroWidth",
        "unicode_tags": f"{_C}:UnicodeTags",
        "spacing": f"{_CT}:CharacterSpacing",
        "split": f"{_CT}:PayloadSplit",
        "markdown": f"{_CT}:MarkdownWrap",
        "code": f"{_CT}:CodeWrap",
        "translate": f"{_CT}:Translate",
        "paraphrase": f"{_CT}:Paraphrase",
        "best_of_n": f"{_CT}:BestOfN",
        "turned_words": f"{_CT}:TurnedWords",
        "dilute": f"{_CT}:Dilute",
    },
    "strategies": {
        "single": f"{_S}:SingleTurn",
        "crescendo": f"{_S}:ScriptedCrescendo",
        "pair": f"{_S}:Pair",
        "tap": f"{_S}:Tap",
        "crescendo_llm": f"{_S}:AttackerCrescendo",
    },
    "targets": {
        "openai": f"{_T}:OpenAITarget",
        "gateway": f"{_T}:GatewayTarget",
        "http": "bastion.redteam.targets._http:HttpTarget",
        "callable": "bastion.redteam.targets._callable:CallableTarget",
        "vulnerable": "bastion.redteam.targets._vulnerable:VulnerableTarget",
    },
    "scorers": {
        "refusal": f"{_SC}:RefusalScorer",
        "harm": f"{_SC}:HarmScorer",
        "leak": f"{_SC}:LeakScorer",
        "injection": f"{_SC}:InjectionScorer",
        "judge": "bastion.redteam.scorers._judge:JudgeScorer",
        "output_handling": f"{_SO}:OutputHandlingScorer",
        "premise": f"{_SO}:PremiseScorer",
        "consumption": f"{_SO}:ConsumptionScorer",
        "retrieval": f"{_SO}:RetrievalScorer",
    },
}
