; Starlark (Bazel's configuration language), read with the Python grammar: a language added
; by the test suite the way docs/analysis.md describes, without touching the extractor.

(module . (expression_statement (string) @module.doc))

(function_definition
  name: (identifier) @name
  body: (block . (expression_statement (string) @doc)?) @body) @definition.function

(parameters (identifier) @param.name)

(call function: (identifier) @call.name)
(call function: (attribute object: (_) @call.receiver attribute: (identifier) @call.name))

(assignment left: (identifier) @assign.target right: (call function: (identifier) @assign.call))
