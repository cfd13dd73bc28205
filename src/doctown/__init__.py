"""doctown: documentation for source code, computed by static analysis and verbalized by an LLM."""

__version__ = "0.1.0"
