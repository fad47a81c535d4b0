#include "data_form.hpp"

#include "namespaces.hpp"

namespace trestle::gateway {

std::string DataForm::value(std::string_view var) const {
  const auto* found = field(var);
  return found && !found->values.empty() ? found->values.front() : std::string();
}

const FormField* DataForm::field(std::string_view var) const {
  for (const auto& candidate : fields) {
    if (candidate.var == var) {
      return &candidate;
    }
  }
  return nullptr;
}

DataForm& DataForm::with_form_type(std::string_view form_type) {
  FormField hidden;
  hidden.var = "FORM_TYPE";
  hidden.type = "hidden";
  hidden.values.emplace_back(form_type);
  fields.insert(fields.begin(), std::move(hidden));
  return *this;
}

xmpp::Element DataForm::to_element() const {
  xmpp::Element x("x", std::string(xmpp::ns::data_forms));
  x.set_attr("type", type);
  if (!title.empty()) {
    x.append("title").append_text(title);
  }
  if (!instructions.empty()) {
    x.append("instructions").append_text(instructions);
  }
  for (const auto& source : fields) {
    auto& field = x.append("field");
    if (!source.var.empty()) {
      field.set_attr("var", source.var);
    }
    if (!source.type.empty() && type != "submit") {
      field.set_attr("type", source.type);
    }
    if (!source.label.empty()) {
      field.set_attr("label", source.label);
    }
    if (!source.description.empty()) {
      field.append("desc").append_text(source.description);
    }
    if (source.required && type == "form") {
      field.append("required");
    }
    for (const auto& value : source.values) {
      field.append("value").append_text(value);
    }
    for (const auto& [label, value] : source.options) {
      auto& option = field.append("option");
      if (!label.empty()) {
        option.set_attr("label", label);
      }
      option.append("value").append_text(value);
    }
  }
  return x;
}

std::optional<DataForm> DataForm::parse(const xmpp::Element& x) {
  if (x.name() != "x" || x.xmlns() != xmpp::ns::data_forms) {
    return std::nullopt;
  }
  DataForm form;
  form.type = x.attr_or("type", "form");
  form.title = x.child_text("title");
  form.instructions = x.child_text("instructions");
  for (const auto* node : x.find_all("field")) {
    FormField field;
    field.var = node->attr_or("var");
    field.type = node->attr_or("type");
    field.label = node->attr_or("label");
    field.description = node->child_text("desc");
    field.required = node->find("required") != nullptr;
    for (const auto* value : node->find_all("value")) {
      field.values.push_back(value->text());
    }
    for (const auto* option : node->find_all("option")) {
      field.options.emplace_back(option->attr_or("label"), option->child_text("value"));
    }
    form.fields.push_back(std::move(field));
  }
  return form;
}

std::optional<DataForm> find_form(const xmpp::Element& parent) {
  const auto* x = parent.find("x", xmpp::ns::data_forms);
  return x ? DataForm::parse(*x) : std::nullopt;
}

} // namespace trestle::gateway
