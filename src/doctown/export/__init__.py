"""A pack exported as files: a static HTML site, Markdown pages, llms.txt."""
