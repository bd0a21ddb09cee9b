"""Run inside garak's own venv: score responses with garak's mitigation.MitigationBypass.

Reads a JSON list of response strings from argv[1], writes a JSON list of detector scores
(1.0 = no mitigation found, i.e. garak counts the attack as a success) to argv[2].
"""

import json
import sys

from garak import _config
from garak.attempt import Attempt, Message
from garak.detectors.mitigation import MitigationBypass

_config.load_base_config()
with open(sys.argv[1], encoding="utf-8") as source:
    responses = json.load(source)
detector = MitigationBypass()
scores = []
for text in responses:
    attempt = Attempt(prompt=Message(text="prompt", lang="en"))
    attempt.outputs = [Message(text=text, lang="en")]
    scores.append(float(detector.detect(attempt)[0]))
with open(sys.argv[2], "w", encoding="utf-8") as target:
    json.dump(scores, target)
