; Rust. Captures follow the contract in doctown/analysis/parse.py.

((line_comment) @comment (#match? @comment "^///"))
((block_comment) @comment (#match? @comment "^/\\*\\*"))
(attribute_item) @attribute

(struct_item (visibility_modifier)? @modifiers name: (type_identifier) @name body: (_)? @body) @definition.struct
(enum_item (visibility_modifier)? @modifiers name: (type_identifier) @name body: (_) @body) @definition.enum
(union_item (visibility_modifier)? @modifiers name: (type_identifier) @name body: (_) @body) @definition.struct
(trait_item
  (visibility_modifier)? @modifiers
  name: (type_identifier) @name
  bounds: (trait_bounds [(type_identifier) (scoped_type_identifier)] @base)?
  body: (declaration_list) @body) @definition.trait
(type_item (visibility_modifier)? @modifiers name: (type_identifier) @name) @definition.type_alias
(mod_item (visibility_modifier)? @modifiers name: (identifier) @name body: (declaration_list) @body) @definition.module
(macro_definition name: (identifier) @name) @definition.macro

(function_item
  (visibility_modifier)? @modifiers
  name: (identifier) @name
  return_type: (_)? @return_type
  body: (block) @body) @definition.function
(function_signature_item
  (visibility_modifier)? @modifiers
  name: (identifier) @name
  return_type: (_)? @return_type) @definition.method

; Methods of `impl Type` and `impl Trait for Type` belong to the type.
(impl_item
  type: (_) @owner
  body: (declaration_list
    (function_item
      (visibility_modifier)? @modifiers
      name: (identifier) @name
      return_type: (_)? @return_type
      body: (block) @body) @definition.method))
(impl_item trait: (_) @impl.trait type: (_) @impl.type)

(parameter pattern: (identifier) @param.name type: (_) @param.type)
(field_declaration name: (field_identifier) @field.name type: (_) @field.type)

(call_expression
  function: [
    (identifier) @call.name
    (field_expression value: (_) @call.receiver field: (field_identifier) @call.name)
    (scoped_identifier path: (_) @call.receiver name: (identifier) @call.name)
    (generic_function function: (scoped_identifier path: (_) @call.receiver name: (identifier) @call.name))
  ])

(use_declaration argument: (_) @import.module) @import

(let_declaration
  pattern: (identifier) @assign.target
  type: (_)? @assign.type
  value: [
    (struct_expression name: (_) @assign.new)
    (call_expression function: [(identifier) (scoped_identifier)] @assign.call)
    (identifier) @assign.ref
    (_)
  ]?)
