// PLACEHOLDER: replaced by the foundation work.
