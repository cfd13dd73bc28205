; Go. Captures follow the contract in doctown/analysis/parse.py.

(comment) @comment
(package_clause (package_identifier) @package)

(type_declaration (type_spec name: (type_identifier) @name type: (struct_type) @body)) @definition.struct
(type_declaration (type_spec name: (type_identifier) @name type: (interface_type) @body)) @definition.interface
(type_declaration (type_spec name: (type_identifier) @name type: [(type_identifier) (qualified_type) (pointer_type) (function_type) (map_type) (slice_type) (generic_type)])) @definition.type_alias
(type_declaration (type_alias name: (type_identifier) @name)) @definition.type_alias

; Embedded fields and interfaces promote their methods: they act as bases.
(type_declaration (type_spec name: (type_identifier) @name
  type: (struct_type (field_declaration_list
    (field_declaration !name type: [(type_identifier) (qualified_type) (pointer_type)] @base))))) @definition.struct
(type_declaration (type_spec name: (type_identifier) @name
  type: (interface_type (type_elem [(type_identifier) (qualified_type)] @base)))) @definition.interface

(function_declaration
  name: (identifier) @name
  result: (_)? @return_type
  body: (block) @body) @definition.function

(method_declaration
  receiver: (parameter_list (parameter_declaration type: (_) @owner))
  name: (field_identifier) @name
  result: (_)? @return_type
  body: (block) @body) @definition.method

(method_elem name: (field_identifier) @name result: (_)? @return_type) @definition.method

(parameter_declaration name: (identifier) @param.name type: (_) @param.type)
(field_declaration name: (field_identifier) @field.name type: (_) @field.type)

(call_expression
  function: [
    (identifier) @call.name
    (selector_expression operand: (_) @call.receiver field: (field_identifier) @call.name)
  ])

(import_spec name: (_)? @import.alias path: (interpreted_string_literal (interpreted_string_literal_content) @import.module)) @import

(short_var_declaration
  left: (expression_list . (identifier) @assign.target)
  right: (expression_list . [
    (composite_literal type: (_) @assign.new)
    (unary_expression operand: (composite_literal type: (_) @assign.new))
    (call_expression function: [(identifier) (selector_expression)] @assign.call)
    (identifier) @assign.ref
    (_)
  ]))
(var_spec name: (identifier) @assign.target type: (_) @assign.type)
(var_spec
  name: (identifier) @assign.target
  !type
  value: (expression_list . [
    (composite_literal type: (_) @assign.new)
    (unary_expression operand: (composite_literal type: (_) @assign.new))
    (call_expression function: [(identifier) (selector_expression)] @assign.call)
    (_)
  ]))
