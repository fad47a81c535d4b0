#include "element.hpp"

#include "namespaces.hpp"

#include <algorithm>

namespace trestle::xmpp {

namespace {

/// Escapes `raw` into `out`. Besides the five markup characters, CR is always
/// written as a character reference because a parser turns a raw CR into LF;
/// inside attribute values TAB and LF are too, because attribute-value
/// normalization (XML 1.0 section 3.3.3) would turn them into spaces.
void escape_into(std::string& out, std::string_view raw, bool attribute) {
  // Runs of ordinary characters are copied whole; only the specials go one by one.
  const auto special = [attribute](char c) {
    return c == '&' || c == '<' || c == '>' || c == '\'' || c == '"' || c == '\r' ||
           (attribute && (c == '\n' || c == '\t'));
  };
  for (;;) {
    const auto stop = std::find_if(raw.begin(), raw.end(), special);
    out.append(raw.begin(), stop);
    if (stop == raw.end()) {
      return;
    }
    const char c = *stop;
    raw.remove_prefix(static_cast<std::size_t>(stop - raw.begin()) + 1);
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '\'':
      out += "&apos;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\r':
      out += "&#13;";
      break;
    case '\n':
      out += attribute ? "&#10;" : "\n";
      break;
    case '\t':
      out += attribute ? "&#9;" : "\t";
      break;
    default:
      out += c;
    }
  }
}

/// Whether `child`, seen from `parent`, is an element called `name` in `xmlns`
/// (any namespace if `xmlns` is empty). A child with an empty namespace
/// inherits its parent's.
bool matches(const Element& parent, const Element& child, std::string_view name,
             std::string_view xmlns) {
  if (child.is_text() || child.name() != name) {
    return false;
  }
  if (xmlns.empty()) {
    return true;
  }
  const std::string& effective = child.xmlns().empty() ? parent.xmlns() : child.xmlns();
  return effective == xmlns;
}

} // namespace

Element::Element(std::string name, std::string xmlns)
    : name_(std::move(name)), xmlns_(std::move(xmlns)) {}

Element Element::text_node(std::string text) {
  Element node;
  node.text_ = std::move(text);
  return node;
}

std::optional<std::string_view> Element::attr(std::string_view name) const {
  for (const auto& [key, value] : attributes_) {
    if (key == name) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

std::string Element::attr_or(std::string_view name, std::string_view fallback) const {
  const auto value = attr(name);
  return std::string(value ? *value : fallback);
}

Element& Element::set_attr(std::string name, std::string value) {
  for (auto& [key, existing] : attributes_) {
    if (key == name) {
      existing = std::move(value);
      return *this;
    }
  }
  attributes_.emplace_back(std::move(name), std::move(value));
  return *this;
}

bool Element::remove_attr(std::string_view name) {
  const auto it = std::find_if(attributes_.begin(), attributes_.end(),
                               [&](const Attribute& a) { return a.first == name; });
  if (it == attributes_.end()) {
    return false;
  }
  attributes_.erase(it);
  return true;
}

Element& Element::append(Element child) {
  nodes_.push_back(std::move(child));
  return nodes_.back();
}

Element& Element::append(std::string name, std::string xmlns) {
  return append(Element(std::move(name), std::move(xmlns)));
}

Element& Element::append_text(std::string_view text) {
  if (text.empty()) {
    return *this;
  }
  if (!nodes_.empty() && nodes_.back().is_text()) {
    nodes_.back().text_.append(text);
  } else {
    nodes_.push_back(text_node(std::string(text)));
  }
  return *this;
}

std::size_t Element::remove_children(std::string_view name, std::string_view xmlns) {
  const auto old_size = nodes_.size();
  std::erase_if(nodes_, [&](const Element& child) { return matches(*this, child, name, xmlns); });
  return old_size - nodes_.size();
}

std::size_t Element::remove_children_unless(std::string_view name, std::string_view xmlns,
                                            const std::function<bool(const Element&)>& keep) {
  const auto old_size = nodes_.size();
  std::erase_if(nodes_, [&](const Element& child) {
    return matches(*this, child, name, xmlns) && !keep(child);
  });
  return old_size - nodes_.size();
}

std::string Element::text() const {
  if (is_text()) {
    return text_;
  }
  std::string out;
  for (const auto& node : nodes_) {
    if (node.is_text()) {
      out += node.text_;
    }
  }
  return out;
}

const Element* Element::find(std::string_view name, std::string_view xmlns) const {
  for (const auto& node : nodes_) {
    if (matches(*this, node, name, xmlns)) {
      return &node;
    }
  }
  return nullptr;
}

Element* Element::find(std::string_view name, std::string_view xmlns) {
  return const_cast<Element*>(std::as_const(*this).find(name, xmlns));
}

std::vector<const Element*> Element::find_all(std::string_view name, std::string_view xmlns) const {
  std::vector<const Element*> found;
  for (const auto& node : nodes_) {
    if (matches(*this, node, name, xmlns)) {
      found.push_back(&node);
    }
  }
  return found;
}

const Element* Element::first_element() const {
  for (const auto& node : nodes_) {
    if (!node.is_text()) {
      return &node;
    }
  }
  return nullptr;
}

std::string Element::child_text(std::string_view name, std::string_view xmlns) const {
  const Element* child = find(name, xmlns);
  return child ? child->text() : std::string();
}

std::string escape_xml(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  escape_into(out, raw, false);
  return out;
}

std::string serialize(const Element& element, std::string_view parent_xmlns) {
  std::string out;
  serialize_to(out, element, parent_xmlns);
  return out;
}

void serialize_to(std::string& out, const Element& element, std::string_view parent_xmlns) {
  if (element.is_text()) {
    escape_into(out, element.text(), false);
    return;
  }
  // The XML namespace may not be declared, only used through its reserved
  // prefix (Namespaces in XML 1.0, section 3).
  const bool reserved = element.xmlns() == ns::xml;
  const std::string_view prefix = reserved ? "xml:" : "";
  out += '<';
  out += prefix;
  out += element.name();
  const bool declares = !reserved && !element.xmlns().empty() && element.xmlns() != parent_xmlns;
  if (declares) {
    out += " xmlns='";
    escape_into(out, element.xmlns(), true);
    out += '\'';
  }
  for (const auto& [key, value] : element.attributes()) {
    out += ' ';
    out += key;
    out += "='";
    escape_into(out, value, true);
    out += '\'';
  }
  if (element.nodes().empty()) {
    out += "/>";
    return;
  }
  out += '>';
  const std::string_view scope = declares ? std::string_view(element.xmlns()) : parent_xmlns;
  for (const auto& node : element.nodes()) {
    serialize_to(out, node, scope);
  }
  out += "</";
  out += prefix;
  out += element.name();
  out += '>';
}

} // namespace trestle::xmpp
