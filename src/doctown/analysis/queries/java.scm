; Java. Captures follow the contract in doctown/analysis/parse.py.

((block_comment) @comment (#match? @comment "^/\\*\\*"))
(package_declaration [(identifier) (scoped_identifier)] @package)

(class_declaration
  (modifiers)? @modifiers
  name: (identifier) @name
  superclass: (superclass (_) @base)?
  body: (class_body) @body) @definition.class
(class_declaration name: (identifier) @name
  interfaces: (super_interfaces (type_list (_) @base))) @definition.class
(interface_declaration
  (modifiers)? @modifiers
  name: (identifier) @name
  body: (interface_body) @body) @definition.interface
(interface_declaration name: (identifier) @name
  (extends_interfaces (type_list (_) @base))) @definition.interface
(enum_declaration (modifiers)? @modifiers name: (identifier) @name body: (enum_body) @body) @definition.enum
(record_declaration (modifiers)? @modifiers name: (identifier) @name body: (class_body) @body) @definition.class

(method_declaration
  (modifiers)? @modifiers
  type: (_) @return_type
  name: (identifier) @name
  body: (block)? @body) @definition.method
(constructor_declaration
  (modifiers)? @modifiers
  name: (identifier) @name
  body: (constructor_body) @body) @definition.constructor

(formal_parameter type: (_) @param.type name: (identifier) @param.name)
(field_declaration type: (_) @field.type declarator: (variable_declarator name: (identifier) @field.name))

(method_invocation object: (_)? @call.receiver name: (identifier) @call.name)
(object_creation_expression type: [(type_identifier) (scoped_type_identifier) (generic_type)] @call.name)

(import_declaration [(identifier) (scoped_identifier)] @import.module (asterisk)? @import.alias) @import

; `var` declares no type: the value says it.
((local_variable_declaration
  type: (_) @assign.type
  declarator: (variable_declarator name: (identifier) @assign.target))
 (#not-eq? @assign.type "var"))
((local_variable_declaration
  type: (_) @_var
  declarator: (variable_declarator
    name: (identifier) @assign.target
    value: [
      (object_creation_expression type: (_) @assign.new)
      (_)
    ]))
 (#eq? @_var "var"))
(assignment_expression
  left: [(identifier) (field_access object: (this) field: (identifier))] @assign.target
  right: [
    (object_creation_expression type: (_) @assign.new)
    (identifier) @assign.ref
    (_)
  ])
