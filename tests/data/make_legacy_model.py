"""How tests/data/legacy-tfidf-model.* were made: a model pickled by the code before the
classifiers package (commit 307f0a5), run from the repository root at that commit. Kept
so that stores holding models trained by earlier versions keep loading."""
import json, numpy as np
from workbench import codebook
from workbench.suggest import fit_model, Suggester
from workbench.train import dumps
book = codebook.load()
defs = [book.get(c) for c in ("FP08", "OB09", "RE11")]
rows = [json.loads(l) for l in open("corpus/annotations/starter.jsonl")]
rows = [r for r in rows if r.get("text")][:120]
texts = [r["text"] for r in rows]
Y = np.array([[int(c in r["codes"]) for c in ("FP08","OB09","RE11")] for r in rows])
model = fit_model(texts, Y, ["FP08","OB09","RE11"], code_defs=defs)
model.thresholds = np.array([0.4, 0.5, 0.6]); model.blend = np.array([0.25, 0.5, 1.0])
blob = dumps(model)
open("tests/data/legacy-tfidf-model.pickle", "wb").write(blob)
probe = ["Volunteers and NGOs run the welcome desk.", "Rents are high and flats are overcrowded.",
         "The region coordinates services across levels of government and municipalities."]
s = Suggester(defs, model)
out = {"texts": probe, "suggestions": [[[x.code, round(x.score, 6), x.suggested, x.reason] for x in row] for row in s.suggest(probe)]}
json.dump(out, open("tests/data/legacy-tfidf-model.json", "w"), indent=1)
print(len(blob))
