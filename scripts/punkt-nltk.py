#!/usr/bin/python3
"""Split documents with NLTK's Punkt, for comparison with datasets.Sentences (a development tool;
nothing in the project runs it).

    scripts/punkt-nltk.py DOCS.jsonl > nltk.jsonl
    ACTADD_PUNKT_NLTK=$PWD/nltk.jsonl go test ./datasets -run TestSentencesMatchNLTK -v

DOCS.jsonl holds one {"text": ...} object per line (OpenWebText's layout). Each output line is
{"text": ..., "sentences": [...]}: the text with NUL runs removed (as E1 reads documents) and
NLTK's PunktSentenceTokenizer(params).tokenize(text), where params is the English model that
github.com/neurosnap/sentences embeds (data/english.json in its module, an export of NLTK's
english.pickle) loaded into PunktParameters; `go list -m` finds that module, so the project's go
must be on PATH (e.g. .tools/go/bin). Needs Debian's python3-nltk (apt-get install
python3-nltk); NLTK's own pickled models are not needed.
"""
import json
import os
import re
import subprocess
import sys

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def english_model_path():
    out = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", "github.com/neurosnap/sentences"],
        check=True, capture_output=True, text=True,
        cwd=os.path.dirname(os.path.abspath(__file__)),
    )
    return os.path.join(out.stdout.strip(), "data", "english.json")


def params(path):
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    p = PunktParameters()
    p.abbrev_types = set(model["AbbrevTypes"])
    p.collocations = {tuple(k.split(",", 1)) for k in model["Collocations"]}
    p.sent_starters = set(model["SentStarters"])
    for typ, flags in model["OrthoContext"].items():
        p.ortho_context[typ] = flags
    return p


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tok = PunktSentenceTokenizer(params(english_model_path()))
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            text = re.sub("\x00+", "", json.loads(line)["text"])
            print(json.dumps({"text": text, "sentences": tok.tokenize(text)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
