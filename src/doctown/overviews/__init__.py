"""Documentation above the symbol: module, cluster and repository overviews, written bottom-up.

Analysis computes what each level is made of (a module's symbols and dependencies, a cluster's
modules and neighbours, the repository's parts and entry points); the model only puts the
children's summaries into a few sentences and ranks what matters, through the same backends
and policies as symbol summaries. The architecture diagram is computed, never generated.
"""
