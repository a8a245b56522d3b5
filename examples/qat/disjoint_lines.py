#!/usr/bin/python3
"""Writes TRAIN/labels_disjoint.tsv: the lines of TRAIN/labels.tsv whose text is neither a substring of an
evaluation line's text (EVAL/labels.tsv) nor contains one, so QAT never trains on an evaluation text.

  /usr/bin/python3 examples/qat/disjoint_lines.py TRAIN_DIR EVAL_DIR
"""
import os
import sys


def Texts(path):
    with open(path, encoding='utf-8') as f:
        return [line.rstrip('\n').split('\t', 1) for line in f if line.strip()]


def Main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    train_dir, eval_dir = sys.argv[1:]
    eval_texts = [t for _, t in Texts(os.path.join(eval_dir, 'labels.tsv'))]
    train = Texts(os.path.join(train_dir, 'labels.tsv'))
    kept = [(p, t) for p, t in train if not any(t in e or e in t for e in eval_texts)]
    with open(os.path.join(train_dir, 'labels_disjoint.tsv'), 'w', encoding='utf-8') as f:
        f.writelines(f'{p}\t{t}\n' for p, t in kept)
    print(f'{len(kept)} of {len(train)} training lines kept ({len(train) - len(kept)} share text with {eval_dir})')


if __name__ == '__main__':
    Main()
