; Python. Captures follow the contract in doctown/analysis/parse.py.

(module . (expression_statement (string) @module.doc))

(class_definition
  name: (identifier) @name
  superclasses: (argument_list
    [(identifier) (attribute) (subscript value: [(identifier) (attribute)])] @base)?
  body: (block . (expression_statement (string) @doc)?) @body) @definition.class

(function_definition
  name: (identifier) @name
  return_type: (type)? @return_type
  body: (block . (expression_statement (string) @doc)?) @body) @definition.function

; The first parameter of a method is the instance (or the class, for a classmethod),
; even behind a comment such as `# type: ignore[override]`.
(class_definition
  body: (block
    [(function_definition parameters: (parameters . (identifier) @param.self))
     (function_definition parameters: (parameters . (comment) . (identifier) @param.self))
     (decorated_definition
       definition: (function_definition parameters: (parameters . (identifier) @param.self)))
     (decorated_definition
       definition: (function_definition
         parameters: (parameters . (comment) . (identifier) @param.self)))]))

; Untyped parameters and other local names shadow outer definitions of the same name.
(parameters
  [(identifier) @param.name
   (default_parameter name: (identifier) @param.name)
   (list_splat_pattern (identifier) @param.name)
   (dictionary_splat_pattern (identifier) @param.name)])
(lambda_parameters (identifier) @param.name)
(as_pattern_target (identifier) @assign.target)

(typed_parameter (identifier) @param.name type: (type) @param.type)
(typed_default_parameter name: (identifier) @param.name type: (type) @param.type)

(call
  function: [
    (identifier) @call.name
    (attribute object: (_) @call.receiver attribute: (identifier) @call.name)
  ])

(import_statement name: (dotted_name) @import.module) @import
(import_statement
  name: (aliased_import name: (dotted_name) @import.module alias: (identifier) @import.alias)) @import
(import_from_statement
  module_name: (_) @import.module
  name: (dotted_name) @import.name) @import
(import_from_statement
  module_name: (_) @import.module
  name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias)) @import
(import_from_statement
  module_name: (_) @import.module
  (wildcard_import) @import.name) @import

; What a name holds, for the receiver types of later calls.
(assignment
  left: [(identifier) (attribute object: (identifier) attribute: (identifier))] @assign.target
  type: (type)? @assign.type
  right: [
    (call function: [(identifier) (attribute)] @assign.call)
    (identifier) @assign.ref
    (attribute) @assign.ref
  ]?)

; A loop variable holds an element of what it iterates over.
(for_statement
  left: (identifier) @assign.target
  right: [(call) (identifier) (attribute)]? @assign.each)
(for_in_clause left: (identifier) @assign.target right: [(call) (identifier) (attribute)]? @assign.each)

; What a function returns, when nothing declares it: the type of what calling it gives.
(return_statement
  [(call function: [(identifier) (attribute)] @return.call)
   (identifier) @return.ref
   (none) @return.none
   (_)]) @return
