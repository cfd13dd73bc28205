; TypeScript and TSX. Captures follow the contract in doctown/analysis/parse.py.

((comment) @comment (#match? @comment "^/\\*\\*"))

(class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
(abstract_class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
; Each base in its own match: matches of one definition merge, bases and all.
(class_declaration name: (type_identifier) @name
  (class_heritage (extends_clause value: (_) @base))) @definition.class
(class_declaration name: (type_identifier) @name
  (class_heritage (implements_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base))) @definition.class
(abstract_class_declaration name: (type_identifier) @name
  (class_heritage (extends_clause value: (_) @base))) @definition.class
(abstract_class_declaration name: (type_identifier) @name
  (class_heritage (implements_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base))) @definition.class

(interface_declaration
  name: (type_identifier) @name
  (extends_type_clause [(type_identifier) (nested_type_identifier) (generic_type)] @base)?
  body: (interface_body) @body) @definition.interface
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.enum
(type_alias_declaration name: (type_identifier) @name) @definition.type_alias
(internal_module name: (identifier) @name body: (statement_block) @body) @definition.module

(function_declaration
  name: (identifier) @name
  return_type: (type_annotation)? @return_type
  body: (statement_block) @body) @definition.function
(generator_function_declaration name: (identifier) @name body: (statement_block) @body) @definition.function

(method_definition
  (accessibility_modifier)? @modifiers
  name: [(property_identifier) (private_property_identifier)] @name
  return_type: (type_annotation)? @return_type
  body: (statement_block) @body) @definition.method
(method_signature
  name: (property_identifier) @name
  return_type: (type_annotation)? @return_type) @definition.method
(abstract_method_signature
  (accessibility_modifier)? @modifiers
  name: (property_identifier) @name
  return_type: (type_annotation)? @return_type) @definition.method

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]) @definition.function
(public_field_definition
  (accessibility_modifier)? @modifiers
  name: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]) @definition.method

; Parameters shadow outer definitions of the same name.
(arrow_function parameter: (identifier) @param.name)
[(required_parameter pattern: (identifier) @param.name !type)
 (optional_parameter pattern: (identifier) @param.name !type)]

(call_expression
  function: [
    (identifier) @call.name
    (member_expression object: (_) @call.receiver property: [(property_identifier) (private_property_identifier)] @call.name)
  ])
(new_expression
  constructor: [
    (identifier) @call.name
    (member_expression object: (_) @call.receiver property: (property_identifier) @call.name)
  ])

(import_statement (import_clause (identifier) @import.default) source: (string (string_fragment) @import.module)) @import
(import_statement (import_clause (namespace_import (identifier) @import.alias)) source: (string (string_fragment) @import.module)) @import
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name alias: (_)? @import.alias)))
  source: (string (string_fragment) @import.module)) @import

; CommonJS: `const x = require('./m')` binds what m exports; `{a, b: c}` picks members.
((variable_declarator
  name: (identifier) @import.require
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string (string_fragment) @import.module)))) @import
 (#eq? @_require "require"))
((variable_declarator
  name: (object_pattern
    [(shorthand_property_identifier_pattern) @import.name
     (pair_pattern key: (property_identifier) @import.name value: (identifier) @import.alias)])
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string (string_fragment) @import.module)))) @import
 (#eq? @_require "require"))
((assignment_expression
  left: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
  right: [(identifier) @export.default
          (class name: (_) @export.default)
          (function_expression name: (identifier) @export.default)])
 (#eq? @_module "module") (#eq? @_exports "exports"))

(export_statement "default" (identifier) @export.default)
(export_statement "default" declaration: [(function_declaration name: (identifier) @export.default) (class_declaration name: (type_identifier) @export.default)])

[(required_parameter pattern: (identifier) @param.name type: (type_annotation) @param.type)
 (optional_parameter pattern: (identifier) @param.name type: (type_annotation) @param.type)]
; Constructor parameter properties (`constructor(private db: Db)`) declare fields.
(required_parameter (accessibility_modifier) pattern: (identifier) @field.name type: (type_annotation) @field.type)
(public_field_definition name: (property_identifier) @field.name type: (type_annotation) @field.type)
(property_signature name: (property_identifier) @field.name type: (type_annotation) @field.type)

(variable_declarator
  name: (identifier) @assign.target
  type: (type_annotation)? @assign.type
  value: [
    (new_expression constructor: [(identifier) (member_expression)] @assign.new)
    (call_expression function: [(identifier) (member_expression)] @assign.call)
    (identifier) @assign.ref
    (_)
  ])
(assignment_expression
  left: [(identifier) (member_expression object: (this) property: (property_identifier))] @assign.target
  right: [
    (new_expression constructor: [(identifier) (member_expression)] @assign.new)
    (call_expression function: [(identifier) (member_expression)] @assign.call)
    (identifier) @assign.ref
    (_)
  ])

; What a function returns, when nothing declares it: the type of what calling it gives.
(return_statement
  [(new_expression constructor: [(identifier) (member_expression)] @return.new)
   (call_expression function: [(identifier) (member_expression)] @return.call)
   [(identifier) (this)] @return.ref
   [(null) (undefined)] @return.none
   (_)]) @return
