// The IR text parser: a lexer, a flat recursive-descent reader that turns
// the text into statements with their positions, and a builder that
// resolves names, infers omitted types, checks each node against its op's
// shape rule (so errors point at the line), then builds and verifies the
// graph. Nothing is allocated from a size the text merely claims: lists
// grow only as their elements are read, so hostile text cannot make the
// parser allocate more than a small multiple of its own length.

#include "ir/parser.h"

#include <charconv>
#include <limits>
#include <optional>
#include <unordered_map>

#include "ir/printer.h"

namespace anet {
namespace {

/// A position in the text, 1-based.
struct Pos {
  int line = 1;
  int column = 1;
};

enum class Tok {
  Word,   ///< a run of [A-Za-z0-9_.+/-]: keywords, op names, numbers, types
  Name,   ///< %name or %"quoted name"; text holds the name
  String, ///< "..." with escapes decoded
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equals,
  End,
};

struct Token {
  Tok kind = Tok::End;
  std::string text;
  Pos pos;
};

template <class... Parts> Error error_at(Pos p, const Parts &...parts) {
  return make_error(ExitCode::InvalidModel, "line ", p.line, ", column ", p.column, ": ", parts...);
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '+' || c == '/' || c == '-' || c == '@';
}

std::string describe(const Token &t) {
  switch (t.kind) {
  case Tok::Word:
    return "'" + t.text + "'";
  case Tok::Name:
    return "'%" + name_text(t.text) + "'";
  case Tok::String:
    return "string " + quote_string(t.text);
  case Tok::End:
    return "end of text";
  default:
    return "'" + t.text + "'";
  }
}

class Lexer {
public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Expected<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space_and_comments();
      Token t;
      t.pos = pos_;
      if (i_ >= text_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      char c = text_[i_];
      if (is_word_char(c)) {
        t.kind = Tok::Word;
        t.text = take_word();
      } else if (c == '"') {
        t.kind = Tok::String;
        ANET_ASSIGN_OR_RETURN(t.text, take_string());
      } else if (c == '%') {
        advance();
        t.kind = Tok::Name;
        if (i_ < text_.size() && text_[i_] == '"') {
          ANET_ASSIGN_OR_RETURN(t.text, take_string());
        } else if (i_ < text_.size() && is_word_char(text_[i_])) {
          t.text = take_word();
        } else {
          return error_at(t.pos, "'%' must be followed by a name");
        }
      } else {
        static constexpr std::string_view kPunct = "{}()[],:=";
        static constexpr Tok kKinds[] = {Tok::LBrace, Tok::RBrace,   Tok::LParen,
                                         Tok::RParen, Tok::LBracket, Tok::RBracket,
                                         Tok::Comma,  Tok::Colon,    Tok::Equals};
        size_t k = kPunct.find(c);
        if (k == std::string_view::npos)
          return error_at(t.pos, "unexpected character ", quote_string(std::string_view(&c, 1)));
        t.kind = kKinds[k];
        t.text = std::string(1, c);
        advance();
      }
      out.push_back(std::move(t));
    }
  }

private:
  void advance() {
    if (text_[i_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else {
      ++pos_.column;
    }
    ++i_;
  }

  void skip_space_and_comments() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n')
          advance();
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else {
        return;
      }
    }
  }

  std::string take_word() {
    size_t start = i_;
    while (i_ < text_.size() && is_word_char(text_[i_]))
      advance();
    return std::string(text_.substr(start, i_ - start));
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  }

  // At an opening quote: the decoded contents, past the closing quote.
  Expected<std::string> take_string() {
    Pos start = pos_;
    advance();
    std::string out;
    for (;;) {
      if (i_ >= text_.size() || text_[i_] == '\n')
        return error_at(start, "unterminated string");
      char c = text_[i_];
      if (c == '"') {
        advance();
        return out;
      }
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      Pos escape = pos_;
      advance();
      char e = i_ < text_.size() ? text_[i_] : '\0';
      switch (e) {
      case '"':
      case '\\':
        out += e;
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'x': {
        int hi = i_ + 1 < text_.size() ? hex_digit(text_[i_ + 1]) : -1;
        int lo = i_ + 2 < text_.size() ? hex_digit(text_[i_ + 2]) : -1;
        if (hi < 0 || lo < 0)
          return error_at(escape, "\\x must be followed by two hex digits");
        out += static_cast<char>(hi * 16 + lo);
        advance();
        advance();
        break;
      }
      default:
        return error_at(escape, "unknown escape sequence in string");
      }
      advance();
    }
  }

  std::string_view text_;
  size_t i_ = 0;
  Pos pos_;
};

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

// A float in any form from_chars accepts, including inf and nan; out of
// range values are errors, not silently infinite.
std::optional<float> parse_float(std::string_view s) {
  float v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    return std::nullopt;
  return v;
}

struct NameRef {
  std::string name;
  Pos pos;
};

struct Declaration {
  ValueKind kind = ValueKind::Input;
  NameRef name;
  TensorType type;
  std::optional<ParamSlice> slice; ///< `from "w" [shape] axis A offset O`
  std::optional<std::vector<float>> data;
  Pos data_pos;
};

struct OutputDecl {
  NameRef name;
  std::optional<TensorType> type;
};

struct NodeStatement {
  std::vector<OutputDecl> outputs;
  OpKind op = OpKind::Identity;
  Pos op_pos;
  std::vector<NameRef> inputs;
  Attrs attrs;
  std::optional<std::string> name;
  int device = 0;
};

struct GraphText {
  std::string name;
  Pos pos;
  std::vector<Declaration> declarations;
  std::vector<NodeStatement> nodes;
  /// Declarations and nodes interleaved in text order: (is_node, index).
  std::vector<std::pair<bool, size_t>> order;
  std::optional<std::vector<NameRef>> inputs;
  Pos inputs_pos;
  std::vector<NameRef> outputs;
  bool explicit_transfers = false;
  std::vector<std::string> zero_init;
  std::vector<std::pair<NameRef, NameRef>> updates;
  Pos end_pos;
};

class Reader {
public:
  explicit Reader(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Expected<GraphText> run() {
    GraphText g;
    g.pos = peek().pos;
    if (!is_word("graph"))
      return error_at(peek().pos, "expected 'graph', found ", describe(peek()));
    take();
    ANET_ASSIGN_OR_RETURN(g.name, word_or_string("a graph name"));
    ANET_RETURN_IF_ERR(expect(Tok::LBrace, "'{'"));
    for (;;) {
      const Token &t = peek();
      if (t.kind == Tok::RBrace) {
        g.end_pos = t.pos;
        take();
        break;
      }
      if (t.kind == Tok::Name) {
        ANET_ASSIGN_OR_RETURN(NodeStatement node, node_statement());
        g.order.emplace_back(true, g.nodes.size());
        g.nodes.push_back(std::move(node));
        continue;
      }
      if (t.kind != Tok::Word)
        return error_at(t.pos, "expected a statement or '}', found ", describe(t));
      if (t.text == "output") {
        take();
        ANET_ASSIGN_OR_RETURN(NameRef out, name_ref());
        g.outputs.push_back(std::move(out));
      } else if (t.text == "transfers") {
        take();
        ANET_RETURN_IF_ERR(keyword("explicit"));
        g.explicit_transfers = true;
      } else if (t.text == "state") {
        take();
        if (peek().kind != Tok::String)
          return error_at(peek().pos, "expected a quoted weight name after 'state', found ",
                          describe(peek()));
        g.zero_init.push_back(take().text);
      } else if (t.text == "update") {
        take();
        ANET_ASSIGN_OR_RETURN(NameRef param, name_ref());
        ANET_RETURN_IF_ERR(expect(Tok::Equals, "'='"));
        ANET_ASSIGN_OR_RETURN(NameRef value, name_ref());
        g.updates.emplace_back(std::move(param), std::move(value));
      } else if (t.text == "inputs") {
        if (g.inputs)
          return error_at(t.pos, "'inputs' given twice");
        g.inputs_pos = t.pos;
        take();
        ANET_ASSIGN_OR_RETURN(g.inputs, name_list());
      } else {
        ANET_ASSIGN_OR_RETURN(Declaration d, declaration());
        g.order.emplace_back(false, g.declarations.size());
        g.declarations.push_back(std::move(d));
      }
    }
    if (peek().kind != Tok::End)
      return error_at(peek().pos, "unexpected ", describe(peek()), " after the graph's '}'");
    return g;
  }

private:
  const Token &peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token &take() {
    const Token &t = peek();
    if (pos_ + 1 < toks_.size())
      ++pos_;
    return t;
  }
  // Consumes the next token if it is of `kind`.
  bool accept(Tok kind) {
    if (peek().kind != kind)
      return false;
    take();
    return true;
  }
  bool is_word(std::string_view w) const { return peek().kind == Tok::Word && peek().text == w; }

  Status keyword(std::string_view w) {
    if (!is_word(w))
      return error_at(peek().pos, "expected '", w, "', found ", describe(peek()));
    take();
    return {};
  }

  // `from "source" [shape] axis A offset O` after a param's type.
  Expected<ParamSlice> param_slice() {
    ParamSlice ps;
    ANET_ASSIGN_OR_RETURN(ps.source, word_or_string("the sliced weight's name"));
    Pos shape_pos = peek().pos;
    ANET_ASSIGN_OR_RETURN(AttrValue shape, attr_list(false));
    const auto *dims = std::get_if<std::vector<int64_t>>(&shape);
    if (!dims)
      return error_at(shape_pos, "the sliced weight's shape must be a list of integers");
    ps.source_shape = *dims;
    ANET_RETURN_IF_ERR(keyword("axis"));
    ANET_ASSIGN_OR_RETURN(ps.axis, integer("the sliced axis"));
    ANET_RETURN_IF_ERR(keyword("offset"));
    ANET_ASSIGN_OR_RETURN(ps.offset, integer("the slice's offset"));
    return ps;
  }

  Status expect(Tok kind, const char *what) {
    if (peek().kind != kind)
      return error_at(peek().pos, "expected ", what, ", found ", describe(peek()));
    take();
    return {};
  }

  Expected<std::string> word_or_string(const char *what) {
    if (peek().kind != Tok::Word && peek().kind != Tok::String)
      return error_at(peek().pos, "expected ", what, ", found ", describe(peek()));
    return take().text;
  }

  Expected<NameRef> name_ref() {
    if (peek().kind != Tok::Name)
      return error_at(peek().pos, "expected a %name, found ", describe(peek()));
    const Token &t = take();
    return NameRef{t.text, t.pos};
  }

  Expected<std::vector<NameRef>> name_list() {
    std::vector<NameRef> out;
    do {
      ANET_ASSIGN_OR_RETURN(NameRef n, name_ref());
      out.push_back(std::move(n));
    } while (accept(Tok::Comma));
    return out;
  }

  Expected<int64_t> integer(const char *what) {
    const Token &t = peek();
    std::optional<int64_t> v = t.kind == Tok::Word ? parse_int(t.text) : std::nullopt;
    if (!v)
      return error_at(t.pos, "expected ", what, " (an integer), found ", describe(t));
    take();
    return *v;
  }

  Expected<TensorType> type() {
    const Token &t = peek();
    if (t.kind != Tok::Word || t.text != dtype_name(DType::F32))
      return error_at(t.pos, "expected a tensor type such as f32[1,3,224,224], found ",
                      describe(t));
    take();
    TensorType out{DType::F32, {}};
    ANET_RETURN_IF_ERR(expect(Tok::LBracket, "'[' after the element type"));
    if (peek().kind != Tok::RBracket) {
      do {
        ANET_ASSIGN_OR_RETURN(int64_t d, integer("a dimension"));
        out.shape.push_back(d);
      } while (accept(Tok::Comma));
    }
    ANET_RETURN_IF_ERR(expect(Tok::RBracket, "']' or ',' in the shape"));
    if (checked_numel(out.shape) < 0)
      return error_at(t.pos, "shape ", shape_string(out.shape), " is negative or too large");
    return out;
  }

  Expected<Declaration> declaration() {
    const Token &kw = peek();
    Declaration d;
    if (kw.text == "input")
      d.kind = ValueKind::Input;
    else if (kw.text == "param")
      d.kind = ValueKind::Param;
    else if (kw.text == "const")
      d.kind = ValueKind::Constant;
    else if (kw.text == "value")
      d.kind = ValueKind::Activation;
    else
      return error_at(kw.pos,
                      "expected input, param, const, value, output, inputs, a node or "
                      "'}', found ",
                      describe(kw));
    take();
    ANET_ASSIGN_OR_RETURN(d.name, name_ref());
    ANET_RETURN_IF_ERR(expect(Tok::Colon, "':' and a type"));
    ANET_ASSIGN_OR_RETURN(d.type, type());
    if (d.kind == ValueKind::Param && is_word("from")) {
      take();
      ANET_ASSIGN_OR_RETURN(d.slice, param_slice());
    }
    if (d.kind != ValueKind::Constant) {
      if (peek().kind == Tok::Equals)
        return error_at(peek().pos, "only a const has data");
      return d;
    }
    ANET_RETURN_IF_ERR(expect(Tok::Equals, "'=' and the constant's data"));
    d.data_pos = peek().pos;
    ANET_RETURN_IF_ERR(expect(Tok::LBracket, "'[' opening the constant's data"));
    std::vector<float> data;
    if (peek().kind != Tok::RBracket) {
      do {
        const Token &t = peek();
        std::optional<float> v = t.kind == Tok::Word ? parse_float(t.text) : std::nullopt;
        if (!v)
          return error_at(t.pos, "expected a number, found ", describe(t));
        data.push_back(*v);
        take();
      } while (accept(Tok::Comma));
    }
    ANET_RETURN_IF_ERR(expect(Tok::RBracket, "']' or ',' in the constant's data"));
    d.data = std::move(data);
    return d;
  }

  // A list after '[': all integers, or all floats (`force_float` reads
  // integers as floats, for `floats[...]`).
  Expected<AttrValue> attr_list(bool force_float) {
    Pos open = peek().pos;
    ANET_RETURN_IF_ERR(expect(Tok::LBracket, "'['"));
    std::vector<int64_t> ints;
    std::vector<float> floats;
    bool any_int = false;
    if (peek().kind != Tok::RBracket) {
      do {
        const Token &t = peek();
        std::optional<int64_t> i = t.kind == Tok::Word ? parse_int(t.text) : std::nullopt;
        std::optional<float> f = t.kind == Tok::Word ? parse_float(t.text) : std::nullopt;
        if (!f)
          return error_at(t.pos, "expected a number, found ", describe(t));
        if (i && !force_float) {
          any_int = true;
          ints.push_back(*i);
        }
        floats.push_back(*f);
        if (any_int && ints.size() != floats.size())
          return error_at(open, "list mixes integers and floats");
        take();
      } while (accept(Tok::Comma));
    }
    ANET_RETURN_IF_ERR(expect(Tok::RBracket, "']' or ',' in the list"));
    if (force_float || (!floats.empty() && !any_int))
      return AttrValue(std::move(floats));
    return AttrValue(std::move(ints));
  }

  Expected<AttrValue> attr_value() {
    const Token &t = peek();
    if (t.kind == Tok::String)
      return AttrValue(take().text);
    if (t.kind == Tok::LBracket)
      return attr_list(false);
    if (t.kind == Tok::Word && t.text == "floats" && peek(1).kind == Tok::LBracket) {
      take();
      return attr_list(true);
    }
    if (t.kind == Tok::Word) {
      if (std::optional<int64_t> i = parse_int(t.text)) {
        take();
        return AttrValue(*i);
      }
      if (std::optional<float> f = parse_float(t.text)) {
        take();
        return AttrValue(*f);
      }
    }
    return error_at(t.pos, "expected an attribute value (a number, a string or a list), found ",
                    describe(t));
  }

  Expected<NodeStatement> node_statement() {
    NodeStatement n;
    do {
      OutputDecl out;
      ANET_ASSIGN_OR_RETURN(out.name, name_ref());
      if (peek().kind == Tok::Colon) {
        take();
        ANET_ASSIGN_OR_RETURN(out.type, type());
      }
      n.outputs.push_back(std::move(out));
    } while (accept(Tok::Comma));
    ANET_RETURN_IF_ERR(expect(Tok::Equals, "'=' and an op"));
    const Token &op = peek();
    if (op.kind != Tok::Word)
      return error_at(op.pos, "expected an op name, found ", describe(op));
    std::optional<OpKind> kind = op_from_name(op.text);
    if (!kind)
      return error_at(op.pos, "unknown op '", op.text, "'");
    n.op = *kind;
    n.op_pos = op.pos;
    take();
    ANET_RETURN_IF_ERR(expect(Tok::LParen, "'(' and the op's inputs"));
    if (peek().kind != Tok::RParen) {
      ANET_ASSIGN_OR_RETURN(n.inputs, name_list());
    }
    ANET_RETURN_IF_ERR(expect(Tok::RParen, "')' or ',' in the inputs"));
    if (peek().kind == Tok::LBrace) {
      take();
      if (peek().kind != Tok::RBrace) {
        do {
          Pos key_pos = peek().pos;
          ANET_ASSIGN_OR_RETURN(std::string key, word_or_string("an attribute name"));
          if (n.attrs.has(key))
            return error_at(key_pos, "attribute '", key, "' is given twice");
          ANET_RETURN_IF_ERR(expect(Tok::Equals, "'=' after the attribute name"));
          ANET_ASSIGN_OR_RETURN(AttrValue value, attr_value());
          n.attrs.set(key, std::move(value));
        } while (accept(Tok::Comma));
      }
      ANET_RETURN_IF_ERR(expect(Tok::RBrace, "'}' or ',' in the attributes"));
    }
    bool has_device = false;
    for (;;) {
      if (is_word("name")) {
        Pos p = take().pos;
        if (n.name)
          return error_at(p, "'name' is given twice");
        ANET_RETURN_IF_ERR(expect(Tok::Equals, "'=' after name"));
        if (peek().kind != Tok::String)
          return error_at(peek().pos, "expected the node's name as a string, found ",
                          describe(peek()));
        n.name = take().text;
      } else if (is_word("device")) {
        Pos p = take().pos;
        if (has_device)
          return error_at(p, "'device' is given twice");
        ANET_RETURN_IF_ERR(expect(Tok::Equals, "'=' after device"));
        Pos value_pos = peek().pos;
        ANET_ASSIGN_OR_RETURN(int64_t d, integer("a device id"));
        if (d < std::numeric_limits<int>::min() || d > std::numeric_limits<int>::max())
          return error_at(value_pos, "device id ", d, " is out of range");
        n.device = static_cast<int>(d);
        has_device = true;
      } else {
        return n;
      }
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

// Resolves names, infers omitted types, checks every node with its shape
// rule, and assembles the graph.
class Builder {
public:
  explicit Builder(GraphText text) : text_(std::move(text)) {}

  Expected<Graph> run() {
    ANET_RETURN_IF_ERR(declare_all());
    ANET_RETURN_IF_ERR(check_nodes());

    Graph g;
    g.name = text_.name;
    for (Symbol &s : symbols_) {
      ValueId id = g.add_value(s.name, *s.type, s.kind);
      if (s.data)
        g.constants.emplace(id, std::move(*s.data));
      if (s.slice)
        g.param_slices.emplace(id, std::move(*s.slice));
    }
    g.explicit_transfers = text_.explicit_transfers;
    g.zero_init.insert(text_.zero_init.begin(), text_.zero_init.end());
    for (Node &n : nodes_)
      g.add_node(std::move(n));
    if (text_.inputs) {
      g.inputs.clear();
      for (const NameRef &ref : *text_.inputs) {
        ANET_ASSIGN_OR_RETURN(ValueId id, lookup(ref));
        if (symbols_[static_cast<size_t>(id)].kind != ValueKind::Input)
          return error_at(ref.pos, "'%", name_text(ref.name), "' in 'inputs' is a ",
                          value_kind_name(symbols_[static_cast<size_t>(id)].kind),
                          ", not an input");
        g.inputs.push_back(id);
      }
    }
    if (text_.outputs.empty())
      return error_at(text_.end_pos, "graph '", text_.name, "' has no outputs");
    for (const NameRef &ref : text_.outputs) {
      ANET_ASSIGN_OR_RETURN(ValueId id, lookup(ref));
      const Symbol &s = symbols_[static_cast<size_t>(id)];
      if (s.kind == ValueKind::Activation && s.producer < 0)
        return error_at(ref.pos, "output '%", name_text(ref.name), "' is never defined by a node");
      g.outputs.push_back(id);
    }
    for (const auto &[param, value] : text_.updates) {
      ANET_ASSIGN_OR_RETURN(ValueId p, lookup(param));
      ANET_ASSIGN_OR_RETURN(ValueId v, lookup(value));
      g.updates.emplace_back(p, v);
    }
    if (Status ok = verify(g); !ok)
      return error_at(text_.pos, ok.error().message);
    return g;
  }

private:
  struct Symbol {
    std::string name;
    ValueKind kind = ValueKind::Activation;
    Pos pos;
    std::optional<TensorType> type;
    std::optional<std::vector<float>> data;
    std::optional<ParamSlice> slice;
    int producer = -1; ///< index of the defining node statement, for activations
  };

  // Gives every value its id in order of first declaration.
  Status declare_all() {
    for (auto [is_node, index] : text_.order) {
      if (!is_node) {
        Declaration *d = &text_.declarations[index];
        ANET_RETURN_IF_ERR(fresh(d->name));
        Symbol &s = symbols_.back();
        s.kind = d->kind;
        s.type = d->type;
        s.slice = d->slice;
        if (d->data) {
          if (static_cast<int64_t>(d->data->size()) != d->type.numel())
            return error_at(d->data_pos, "constant '%", name_text(d->name.name), "' has ",
                            d->data->size(), " values, its type ", to_string(d->type), " needs ",
                            d->type.numel());
          s.data = std::move(d->data);
        }
        continue;
      }
      const auto node_index = static_cast<int>(index);
      for (const OutputDecl &out : text_.nodes[index].outputs) {
        auto it = ids_.find(out.name.name);
        if (it == ids_.end()) {
          ANET_RETURN_IF_ERR(fresh(out.name));
          symbols_.back().producer = node_index;
          continue;
        }
        Symbol &s = symbols_[static_cast<size_t>(it->second)];
        if (s.kind != ValueKind::Activation || s.producer >= 0)
          return error_at(out.name.pos, "'%", name_text(out.name.name),
                          "' is already defined at line ", s.pos.line);
        s.producer = node_index;
        s.pos = out.name.pos;
      }
    }
    return {};
  }

  Status fresh(const NameRef &ref) {
    auto id = static_cast<ValueId>(symbols_.size());
    if (auto [it, inserted] = ids_.emplace(ref.name, id); !inserted)
      return error_at(ref.pos, "'%", name_text(ref.name), "' is already defined at line ",
                      symbols_[static_cast<size_t>(it->second)].pos.line);
    symbols_.push_back(Symbol{ref.name, ValueKind::Activation, ref.pos, {}, {}, {}, -1});
    return {};
  }

  Expected<ValueId> lookup(const NameRef &ref) const {
    auto it = ids_.find(ref.name);
    if (it == ids_.end())
      return error_at(ref.pos, "unknown value '%", name_text(ref.name), "'");
    return it->second;
  }

  // Node by node, in order: inputs must be defined, output types are
  // inferred or checked against the op's shape rule.
  Status check_nodes() {
    for (size_t index = 0; index < text_.nodes.size(); ++index) {
      NodeStatement *stmt = &text_.nodes[index];
      const auto node_index = static_cast<int>(index);
      Node node;
      node.op = stmt->op;
      node.attrs = std::move(stmt->attrs);
      node.device = stmt->device;
      node.name = stmt->name ? *stmt->name : stmt->outputs[0].name.name;
      std::vector<TensorType> in_types;
      for (const NameRef &ref : stmt->inputs) {
        ANET_ASSIGN_OR_RETURN(ValueId id, lookup(ref));
        const Symbol &s = symbols_[static_cast<size_t>(id)];
        if (s.kind == ValueKind::Activation && s.producer < 0)
          return error_at(ref.pos, "'%", name_text(ref.name), "' is never defined by a node");
        if (s.kind == ValueKind::Activation && s.producer >= node_index)
          return error_at(ref.pos, "'%", name_text(ref.name),
                          "' is used before the node that defines it (line ", s.pos.line, ")");
        node.inputs.push_back(id);
        in_types.push_back(*s.type);
      }
      for (const OutputDecl &out : stmt->outputs)
        node.outputs.push_back(ids_.at(out.name.name));
      auto types = infer_shapes(node, in_types);
      if (!types)
        return error_at(stmt->op_pos, types.error().message);
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        Symbol &s = symbols_[static_cast<size_t>(node.outputs[i])];
        const TensorType &computed = (*types)[i];
        const OutputDecl &out = stmt->outputs[i];
        for (const std::optional<TensorType> &declared : {out.type, s.type})
          if (declared && *declared != computed)
            return error_at(out.name.pos, "'%", name_text(out.name.name), "' is declared ",
                            to_string(*declared), " but ", op_name(node.op), " computes ",
                            to_string(computed));
        s.type = computed;
      }
      nodes_.push_back(std::move(node));
    }
    return {};
  }

  GraphText text_;
  std::vector<Symbol> symbols_;
  std::unordered_map<std::string, ValueId> ids_;
  std::vector<Node> nodes_;
};

} // namespace

Expected<Graph> parse_graph(std::string_view text) {
  ANET_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text).run());
  ANET_ASSIGN_OR_RETURN(GraphText parsed, Reader(std::move(tokens)).run());
  return Builder(std::move(parsed)).run();
}

} // namespace anet
