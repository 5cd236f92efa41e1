// The `where` predicate language (interface.md section 2), in one include: lexer, parser, tree
// and canonical text, name and type resolution, the native/local split, and row evaluation.
//
//   Expr e = resolve(parse_predicate("Status = 'SENT' AND created_at >= '2025-01-01'"), fields);
//   Split s = split(e, [&](auto f, auto op, auto) { return object.native(f, op); });
//   CompiledPredicate local = compile(s.local, fields, zone);   // passes everything when null
#pragma once

#include "core/predicate/ast.hpp"
#include "core/predicate/compiled_predicate.hpp"
#include "core/predicate/lexer.hpp"
#include "core/predicate/parser.hpp"
#include "core/predicate/resolve.hpp"
#include "core/predicate/split.hpp"
