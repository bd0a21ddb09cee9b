"""Bastion's own red-team plugins, as ``name = "module:Class"`` entry-point values.

``pyproject.toml`` declares exactly these under the ``bastion.redteam.*`` entry-point groups
(a test keeps the two in step); the registry falls back to this table only while the installed
package metadata predates them, so built-ins and third-party plugins still load one way.
"""

from __future__ import annotations

_P = "bastion.redteam._probes_harmful"
_J = "bastion.redteam._probes_jailbreak"
_I = "bastion.redteam._probes_injection"
_L = "bastion.redteam._probes_leak"
_D = "bastion.redteam._probes_data"
_C = "bastion.redteam._converters"
_CT = "bastion.redteam._converters_text"
_S = "bastion.redteam._strategies"
_T = "bastion.redteam._targets"
_SC = "bastion.redteam._scorers"
_O = "bastion.redteam._probes_owasp"
_SO = "bastion.redteam._scorers_owasp"

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
        "purpose": "bastion.redteam._probes_purpose:PurposeProbe",
    },
    "converters": {
        "base64": f"{_C}:Base64",
        "hex": f"{_C}:Hex",
        "rot13": f"{_C}:Rot13",
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
        "http": "bastion.redteam._http_target:HttpTarget",
        "callable": "bastion.redteam._callable_target:CallableTarget",
        "vulnerable": "bastion.redteam._vulnerable:VulnerableTarget",
    },
    "scorers": {
        "refusal": f"{_SC}:RefusalScorer",
        "harm": f"{_SC}:HarmScorer",
        "leak": f"{_SC}:LeakScorer",
        "injection": f"{_SC}:InjectionScorer",
        "judge": "bastion.redteam._judge:JudgeScorer",
        "output_handling": f"{_SO}:OutputHandlingScorer",
        "premise": f"{_SO}:PremiseScorer",
        "consumption": f"{_SO}:ConsumptionScorer",
    },
}
