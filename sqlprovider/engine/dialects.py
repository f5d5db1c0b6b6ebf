"""sqlprovider's sqlglot dialects: SQLite for user text, and T-SQL's EXEC as StackQL writes it.

Its own module because importing sqlglot takes about 100 ms: statements.py imports this module only
when a statement needs a tokenizer or a parser (a plain `SELECT 1` does not).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.dialects.tsql import TSQL
from sqlglot.tokens import TokenType


class FrontDialect(SQLite):
    """SQLite as sqlglot reads it, with two fixes for working on user text."""

    class Tokenizer(SQLite.Tokenizer):
        # The base tokenizer swallows the rest of a statement into one token after EXECUTE, SHOW,
        # REPLACE...: that hides strings and names from us. Tokenize everything.
        COMMANDS: set[TokenType] = set()

    class Parser(SQLite.Parser):
        PLACEHOLDER_PARSERS = {
            **SQLite.Parser.PLACEHOLDER_PARSERS,
            TokenType.PLACEHOLDER: lambda self: self._parse_numbered_placeholder(),
        }

        def _parse_numbered_placeholder(self) -> exp.Placeholder:
            """Read SQLite's `?NNN` (sqlglot only knows a bare `?`)."""
            if self._curr and self._curr.token_type == TokenType.NUMBER and self._curr.start == self._prev.end + 1:
                self._advance()
                return self.expression(exp.Placeholder(this=self._prev.text))
            return self.expression(exp.Placeholder())


class ExecDialect(TSQL):
    """T-SQL's EXEC, as StackQL writes it: commas between parameters are optional."""

    class Tokenizer(TSQL.Tokenizer):
        IDENTIFIERS = [("[", "]")]  # "value" is a string, as in StackQL examples

    class Parser(TSQL.Parser):
        def _parse_execute(self) -> exp.Execute:
            """Parse `<resource>.<method>` then `@name=value` pairs, with or without commas."""
            if not self._curr or self._curr.token_type not in (TokenType.VAR, TokenType.IDENTIFIER):
                self.raise_error("missing <resource>.<method> after EXEC")
            target = self._parse_table_parts()
            params: list[exp.Expr] = []
            while self._curr:
                if params and self._match(TokenType.COMMA) and not self._curr:
                    break  # a trailing comma
                if not self._match(TokenType.PARAMETER):
                    self.raise_error(f"expected @param='value' but found {self._curr.text!r}")
                    break
                name = self._parse_parameter()
                value = self._parse_exec_value() if self._match(TokenType.EQ) else None
                params.append(exp.EQ(this=name, expression=value) if value is not None else name)
            return self.expression(exp.Execute(this=target, expressions=params))

        def _parse_exec_value(self) -> exp.Expr | None:
            """A literal, NULL, a negative number, a `(SELECT ...)`, or a bare word (reported later as unquoted)."""
            if self._curr and self._curr.token_type == TokenType.L_PAREN:
                return self._parse_exec_query()
            if self._match(TokenType.DASH):
                number = self._parse_primary()
                return exp.Neg(this=number) if number is not None else None
            if self._curr and self._curr.token_type == TokenType.PARAMETER:
                return None
            return self._parse_primary() or self._parse_column()

        def _parse_exec_query(self) -> exp.Expr:
            """`( ... )` kept as the user's text, for SQLite to evaluate (see ExecQuery)."""
            depth, end = 0, self._index
            for end in range(self._index, len(self._tokens)):
                depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(self._tokens[end].token_type, 0)
                if depth == 0:
                    break
            else:
                self.raise_error("missing ')' after the query of a parameter")
            inner = self._tokens[self._index + 1:end]  # comments are not tokens: a trailing one is left out
            self._advance(end - self._index + 1)
            return ExecQuery(this=self.sql[inner[0].start:inner[-1].end + 1] if inner else "")


class ExecQuery(exp.Expression):
    """`@name=(SELECT ...)`: a parameter value computed by a query (its text is `this`)."""

    arg_types = {"this": True}


FRONT = FrontDialect()
EXEC_DIALECT = ExecDialect()
