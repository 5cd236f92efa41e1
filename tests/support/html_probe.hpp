// Reading an HTML page as a person would: the elements it holds and the text they show. Enough
// HTML for the pages this project serves and for Chromium's --dump-dom serialisation of them
// (start and end tags with quoted or bare attributes, void elements, comments, the doctype,
// raw-text <style> and <script>, character references); not a general HTML parser.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model/value.hpp"

namespace replicator::testsupport {

struct HtmlTag {
  std::string name;                                             // lower case
  std::vector<std::pair<std::string, std::string>> attributes;  // values decoded
  bool end = false;
  std::size_t begin = 0, finish = 0;  // offsets of '<' and one past '>'

  const std::string* attribute(std::string_view attr) const {
    for (const auto& [k, v] : attributes) {
      if (k == attr) return &v;
    }
    return nullptr;
  }
  // attr="value", or for class: value is one of the classes.
  bool has(std::string_view attr, std::string_view value) const {
    const std::string* v = attribute(attr);
    if (!v) return false;
    if (attr != "class") return *v == value;
    std::size_t at = 0;
    while (at <= v->size()) {
      const auto space = v->find(' ', at);
      if (std::string_view(*v).substr(at, space - at) == value) return true;
      if (space == std::string::npos) break;
      at = space + 1;
    }
    return false;
  }
};

// Decodes character references: the named ones these pages use, and numeric ones.
inline std::string html_decode(std::string_view s) {
  static const std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"},  {"lt", "<"},          {"gt", ">"},           {"quot", "\""},
      {"apos", "'"}, {"nbsp", "\xC2\xA0"}, {"middot", "\xC2\xB7"}, {"rarr", "\xE2\x86\x92"}};
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += '&';
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    bool done = false;
    if (!name.empty() && name[0] == '#') {
      try {
        const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
        const unsigned long cp = std::stoul(std::string(name.substr(hex ? 2 : 1)), nullptr, hex ? 16 : 10);
        if (cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF)) {
          model::append_utf8(out, static_cast<char32_t>(cp));
          done = true;
        }
      } catch (const std::exception&) {
      }
    } else {
      for (const auto& [n, v] : kNamed) {
        if (n == name) {
          out += v;
          done = true;
        }
      }
    }
    if (done)
      i = semi;
    else
      out += '&';
  }
  return out;
}

// Every tag of `html` in document order (comments, doctype and raw-text content skipped).
inline std::vector<HtmlTag> html_tags(std::string_view html) {
  std::vector<HtmlTag> out;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.substr(i, 4) == "<!--") {
      const auto close = html.find("-->", i);
      i = close == std::string_view::npos ? html.size() : close + 3;
      continue;
    }
    if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
      i = html.find('>', i);
      if (i == std::string_view::npos) break;
      continue;
    }
    HtmlTag tag;
    tag.begin = i;
    std::size_t p = i + 1;
    if (p < html.size() && html[p] == '/') {
      tag.end = true;
      ++p;
    }
    if (p >= html.size() || !std::isalpha(static_cast<unsigned char>(html[p]))) {
      ++i;  // a stray '<' is text
      continue;
    }
    while (p < html.size() &&
           (std::isalnum(static_cast<unsigned char>(html[p])) || html[p] == '-')) {
      tag.name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[p])));
      ++p;
    }
    // Attributes up to '>'.
    while (p < html.size() && html[p] != '>') {
      if (std::isspace(static_cast<unsigned char>(html[p])) || html[p] == '/') {
        ++p;
        continue;
      }
      std::string name;
      while (p < html.size() && !std::isspace(static_cast<unsigned char>(html[p])) &&
             html[p] != '=' && html[p] != '>' && html[p] != '/') {
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[p])));
        ++p;
      }
      std::string value;
      if (p < html.size() && html[p] == '=') {
        ++p;
        if (p < html.size() && (html[p] == '"' || html[p] == '\'')) {
          const char quote = html[p];
          const auto close = html.find(quote, p + 1);
          const auto stop = close == std::string_view::npos ? html.size() : close;
          value = html_decode(html.substr(p + 1, stop - p - 1));
          p = stop + 1;
        } else {
          const auto start = p;
          while (p < html.size() && !std::isspace(static_cast<unsigned char>(html[p])) &&
                 html[p] != '>')
            ++p;
          value = html_decode(html.substr(start, p - start));
        }
      }
      tag.attributes.emplace_back(std::move(name), std::move(value));
    }
    tag.finish = std::min(p + 1, html.size());
    i = tag.finish;
    if (!tag.end && (tag.name == "style" || tag.name == "script" || tag.name == "title" ||
                     tag.name == "textarea")) {
      const auto close = html.find("</" + tag.name, i);  // raw text: no tags inside
      out.push_back(tag);
      i = close == std::string_view::npos ? html.size() : close;
      continue;
    }
    out.push_back(std::move(tag));
  }
  return out;
}

// What a person reads in `html`: the text outside tags (without <style>, <script> and <title>
// content), references decoded, runs of white space collapsed to one space, trimmed.
inline std::string html_text(std::string_view html) {
  std::string raw;
  std::size_t at = 0;
  for (const auto& tag : html_tags(html)) {
    if (tag.begin > at) raw += html_decode(html.substr(at, tag.begin - at));
    // Tags separate words as far as a reader is concerned (cells, blocks), except <wbr>, a mere
    // line-break opportunity.
    if (tag.name != "wbr") raw += ' ';
    at = tag.finish;
    if (!tag.end && (tag.name == "style" || tag.name == "script" || tag.name == "title")) {
      const auto close = html.find("</" + tag.name, at);
      at = close == std::string_view::npos ? html.size() : close;
    }
  }
  if (at < html.size()) raw += html_decode(html.substr(at));
  std::string out;
  for (char c : raw) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The inner HTML of the first <tag> element whose start tag has every attribute of `match`
// (class matches one of the classes); nullopt when there is none.
inline std::optional<std::string> html_element(
    std::string_view html, std::string_view tag,
    const std::vector<std::pair<std::string, std::string>>& match) {
  static const std::string_view kVoid[] = {"meta", "br",  "img",    "input", "link",
                                           "hr",   "col", "source", "wbr"};
  const auto tags = html_tags(html);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& t = tags[i];
    if (t.end || t.name != tag) continue;
    bool all = true;
    for (const auto& [k, v] : match) all = all && t.has(k, v);
    if (!all) continue;
    for (auto name : kVoid) {
      if (name == tag) return std::string();
    }
    int depth = 1;
    for (std::size_t j = i + 1; j < tags.size(); ++j) {
      if (tags[j].name != tag) continue;
      depth += tags[j].end ? -1 : 1;
      if (depth == 0) return std::string(html.substr(t.finish, tags[j].begin - t.finish));
    }
    return std::string(html.substr(t.finish));  // unclosed (e.g. an implied </td>): up to the end
  }
  return std::nullopt;
}

// The text of the first matching element (see html_element), or nullopt.
inline std::optional<std::string> html_element_text(
    std::string_view html, std::string_view tag,
    const std::vector<std::pair<std::string, std::string>>& match) {
  auto inner = html_element(html, tag, match);
  if (!inner) return std::nullopt;
  return html_text(*inner);
}

}  // namespace replicator::testsupport
