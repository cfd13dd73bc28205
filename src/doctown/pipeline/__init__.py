"""From a repository to a .docpack: source, analysis, selection, generation, pack."""

from doctown.pipeline.build import Build, BuildOptions, Plan

__all__ = ["Build", "BuildOptions", "Plan"]
