#include "html_text.hpp"

#include "mime_charset.hpp"

#include <algorithm>
#include <climits>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <memory>
#include <mutex>
#include <vector>

namespace trestle::smtp {

namespace {

/// Nesting shown by indentation and quote marks at most: deeper lists and
/// quotes look the same, and a hostile document cannot make every line long.
constexpr int max_marks = 8;

/// How an element shapes the text.
enum class Kind {
  /// Content dropped (script, style, head, ...).
  hidden,
  /// Starts and ends a line.
  block,
  /// Stands apart with a blank line before and after.
  paragraph,
  line_break,
  list,
  list_item,
  quote,
  cell,
  link,
  image,
  preformatted,
  /// Everything else: only its text counts.
  inline_element,
};

Kind kind_of(std::string_view name) {
  struct Entry {
    std::string_view name;
    Kind kind;
  };
  // libxml2's HTML parser lowercases element names.
  static constexpr Entry table[] = {
      {"script", Kind::hidden},  {"style", Kind::hidden},     {"head", Kind::hidden},
      {"title", Kind::hidden},   {"template", Kind::hidden},  {"object", Kind::hidden},
      {"p", Kind::paragraph},    {"h1", Kind::paragraph},     {"h2", Kind::paragraph},
      {"h3", Kind::paragraph},   {"h4", Kind::paragraph},     {"h5", Kind::paragraph},
      {"h6", Kind::paragraph},   {"table", Kind::paragraph},  {"hr", Kind::paragraph},
      {"dl", Kind::paragraph},   {"div", Kind::block},        {"tr", Kind::block},
      {"dt", Kind::block},       {"dd", Kind::block},         {"section", Kind::block},
      {"article", Kind::block},  {"header", Kind::block},     {"footer", Kind::block},
      {"nav", Kind::block},      {"aside", Kind::block},      {"main", Kind::block},
      {"address", Kind::block},  {"center", Kind::block},     {"form", Kind::block},
      {"fieldset", Kind::block}, {"figure", Kind::block},     {"figcaption", Kind::block},
      {"caption", Kind::block},  {"details", Kind::block},    {"summary", Kind::block},
      {"br", Kind::line_break},  {"ul", Kind::list},          {"ol", Kind::list},
      {"menu", Kind::list},      {"li", Kind::list_item},     {"blockquote", Kind::quote},
      {"td", Kind::cell},        {"th", Kind::cell},          {"a", Kind::link},
      {"img", Kind::image},      {"pre", Kind::preformatted}, {"textarea", Kind::preformatted},
  };
  for (const auto& entry : table) {
    if (entry.name == name) {
      return entry.kind;
    }
  }
  return Kind::inline_element;
}

std::string_view view(const xmlChar* text) {
  return text != nullptr ? std::string_view(reinterpret_cast<const char*>(text)) : "";
}

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  std::string out(view(value));
  xmlFree(value);
  return out;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

/// Builds the text while the tree is walked: folds white space as a browser
/// does (except in `<pre>`), starts lines with the quote marks of the
/// enclosing `<blockquote>`s, and keeps what links need to show their target.
class TextWriter {
public:
  void enter(xmlNode* node, Kind kind) {
    switch (kind) {
    case Kind::paragraph:
    case Kind::quote:
      paragraph_break();
      quote_depth_ += kind == Kind::quote ? 1 : 0;
      break;
    case Kind::block:
    case Kind::list:
      line_break();
      list_depth_ += kind == Kind::list ? 1 : 0;
      break;
    case Kind::line_break:
      hard_break();
      break;
    case Kind::list_item:
      line_break();
      put(std::string(2 * std::min(list_depth_ > 1 ? list_depth_ - 1 : 0, max_marks), ' ') + "- ");
      break;
    case Kind::cell:
      pending_space_ = true;
      break;
    case Kind::link:
      links_.push_back({attribute(node, "href"), out_.size()});
      break;
    case Kind::image:
      text(attribute(node, "alt"));
      break;
    case Kind::preformatted:
      paragraph_break();
      ++pre_depth_;
      break;
    case Kind::hidden:
    case Kind::inline_element:
      break;
    }
  }

  void leave(Kind kind) {
    switch (kind) {
    case Kind::paragraph:
      paragraph_break();
      break;
    case Kind::quote:
      --quote_depth_;
      paragraph_break();
      break;
    case Kind::block:
    case Kind::list_item:
      line_break();
      break;
    case Kind::list:
      --list_depth_;
      line_break();
      break;
    case Kind::preformatted:
      --pre_depth_;
      paragraph_break();
      break;
    case Kind::link:
      close_link();
      break;
    default:
      break;
    }
  }

  /// A text node's content, white space folded unless inside `<pre>`.
  void text(std::string_view raw) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (pre_depth_ > 0) {
        if (c == '\n') {
          hard_break();
        } else {
          put_char(c);
        }
      } else if (is_blank(c)) {
        pending_space_ = true;
      } else if (c == '\xC2' && i + 1 < raw.size() && raw[i + 1] == '\xA0') {
        // A no-break space: a space that is never folded away.
        flush_space();
        put_char(' ');
        ++i;
      } else {
        flush_space();
        put_char(c);
      }
    }
  }

  /// The text with trailing blanks cut from each line, runs of blank lines
  /// folded into one, and no blank lines at either end.
  std::string finish() const {
    std::string out;
    std::size_t start = 0;
    bool blank_pending = false;
    while (start <= out_.size()) {
      auto end = out_.find('\n', start);
      if (end == std::string::npos) {
        end = out_.size();
      }
      std::string_view line = std::string_view(out_).substr(start, end - start);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
      }
      if (line.empty()) {
        blank_pending = !out.empty();
      } else {
        if (!out.empty()) {
          out += blank_pending ? "\n\n" : "\n";
        }
        out += line;
        blank_pending = false;
      }
      start = end + 1;
    }
    return clean_text(out);
  }

private:
  struct OpenLink {
    std::string href;
    std::size_t text_start;
  };

  bool at_line_start() const { return out_.empty() || out_.back() == '\n'; }

  void put_char(char c) {
    if (at_line_start() && quote_depth_ > 0) {
      for (int k = 0; k < std::min(quote_depth_, max_marks); ++k) {
        out_ += "> ";
      }
    }
    out_ += c;
  }

  void put(std::string_view text) {
    for (const char c : text) {
      put_char(c);
    }
  }

  void flush_space() {
    if (pending_space_ && !at_line_start() && out_.back() != ' ') {
      out_ += ' ';
    }
    pending_space_ = false;
  }

  void hard_break() {
    out_ += '\n';
    pending_space_ = false;
  }

  void line_break() {
    if (!at_line_start()) {
      out_ += '\n';
    }
    pending_space_ = false;
  }

  void paragraph_break() {
    line_break();
    out_ += '\n';
  }

  /// Shows a link's target after its text when the text does not already
  /// say it; page anchors and scripts are not shown.
  void close_link() {
    if (links_.empty()) {
      return;
    }
    const OpenLink link = std::move(links_.back());
    links_.pop_back();
    const std::string_view href = trim(link.href);
    if (href.empty() || href.front() == '#' || href.starts_with("javascript:")) {
      return;
    }
    const std::string_view shown = trim(std::string_view(out_).substr(link.text_start));
    std::string_view target = href;
    if (target.starts_with("mailto:")) {
      target = target.substr(7, target.find('?') == std::string_view::npos ? std::string_view::npos
                                                                           : target.find('?') - 7);
    }
    if (shown == href || shown == target) {
      return;
    }
    if (shown.empty()) {
      flush_space();
      put(href);
      return;
    }
    put(" (");
    put(href);
    put(")");
  }

  std::string out_;
  std::vector<OpenLink> links_;
  bool pending_space_ = false;
  int quote_depth_ = 0;
  int list_depth_ = 0;
  int pre_depth_ = 0;
};

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

/// Visits the tree under `doc` in document order without recursion (a
/// hostile document nests as deep as it likes).
void walk(xmlDoc* doc, TextWriter& writer) {
  const auto doc_node = reinterpret_cast<xmlNode*>(doc);
  xmlNode* node = doc->children;
  while (node != nullptr) {
    bool opened = false;
    Kind kind = Kind::inline_element;
    if (node->type == XML_ELEMENT_NODE) {
      kind = kind_of(view(node->name));
      if (kind != Kind::hidden) {
        writer.enter(node, kind);
        opened = true;
      }
    } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      writer.text(view(node->content));
    }
    if (opened && node->children != nullptr) {
      node = node->children;
      continue;
    }
    if (opened) {
      writer.leave(kind);
    }
    while (node != nullptr && node->next == nullptr) {
      node = node->parent;
      if (node == nullptr || node == doc_node) {
        return;
      }
      writer.leave(kind_of(view(node->name)));
    }
    if (node != nullptr) {
      node = node->next;
    }
  }
}

} // namespace

std::string html_to_text(std::string_view html) {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
  // libxml2 reads the rest of a document as Latin-1 after one bad UTF-8
  // sequence, and may stop at a NUL: it gets clean UTF-8 only.
  const std::string input = clean_text(html.substr(0, INT_MAX / 2));
  if (input.empty()) {
    return {};
  }
  const std::unique_ptr<xmlDoc, DocFree> doc(
      htmlReadMemory(input.data(), static_cast<int>(input.size()), nullptr, "UTF-8",
                     HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                         HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC));
  if (!doc) {
    return {};
  }
  TextWriter writer;
  walk(doc.get(), writer);
  return writer.finish();
}

} // namespace trestle::smtp
