"""Documentation that stays true: what each summary was made from, and what has changed since.

fingerprint   what a summary was made from: the prompt's digest and each part's
reuse         when a previous artefact may stand for a new one (the rule --update follows)
previous      a previous pack as a source of settled summaries, for `build --update`
status        a pack against a new analysis: fresh, stale (and what changed), new, removed
check         status from a source tree: analyse, select and prompt as the pack's build did
diff          two packs: added, removed, re-documented and failed summaries, and their cost
"""
