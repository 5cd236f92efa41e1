// plan_stream against the real built-in catalog: how a stream's `where` splits into pushed
// constraints and a local filter (contract 3.4), the fan-out of nested objects (3.7), the
// extended-field fetch modes (3.8), delete settings (3.9) and the row layout.
#include "core/engine/stream_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/catalog_loader.hpp"
#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::engine {
namespace {

using namespace std::chrono_literals;
using model::ErrorKind;
using model::FilterOp;
using model::ReplicationMode;

const model::Catalog& catalog() {
  static const model::Catalog kCatalog = config::builtin_catalog();
  return kCatalog;
}

const model::ObjectDescriptor& object(std::string_view name) {
  const model::ObjectDescriptor* o = catalog().find_static(name);
  if (!o) throw std::runtime_error("the built-in catalog has no object " + std::string(name));
  return *o;
}

StreamRequest request(const std::string& object_name, const std::string& where = {}) {
  StreamRequest r;
  r.job = "crm";
  r.object = object_name;
  r.where_text = where;
  return r;
}

StreamSpec plan(const StreamRequest& r) { return plan_stream(r, object(r.object)); }

StreamSpec plan_child(const StreamRequest& r) {
  const model::ObjectDescriptor& child = object(r.object);
  return plan_stream(r, child, &object(child.parent->object));
}

std::vector<std::string> layout(const StreamSpec& spec) {
  std::vector<std::string> out;
  for (const auto& f : spec.fields) out.push_back(f.name);
  return out;
}

// Position of `name` in the spec's layout; fails the test (and returns 0) when absent.
std::size_t index_of(const StreamSpec& spec, std::string_view name) {
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].name == name) return i;
  }
  ADD_FAILURE() << name << " is not in the layout";
  return 0;
}

std::size_t count_of(const StreamSpec& spec, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(
      spec.fields.begin(), spec.fields.end(), [&](const model::FieldDescriptor& f) { return f.name == name; }));
}

// A row in the spec's layout: NULL everywhere but in the named fields.
Row row_of(const StreamSpec& spec, std::vector<std::pair<std::string, Value>> values) {
  Row row(spec.fields.size());
  for (auto& [name, v] : values) row[index_of(spec, name)] = std::move(v);
  return row;
}

bool passes(const StreamSpec& spec, const Row& row) {
  if (!spec.local_filter) {
    ADD_FAILURE() << "the spec has no local filter";
    return false;
  }
  return spec.local_filter(row);
}

// The message of the model::Error of kind `kind` that `f` throws.
template <typename F>
std::string error_of(F&& f, ErrorKind kind = ErrorKind::kConfig) {
  try {
    f();
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no model::Error was thrown";
  return {};
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::vector<std::int64_t> ints(const std::vector<Value>& values) {
  std::vector<std::int64_t> out;
  for (const auto& v : values) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      out.push_back(*i);
    } else {
      ADD_FAILURE() << "not an int64: " << model::to_display(v);
    }
  }
  return out;
}

// ---- where: pushed constraints and the local filter ---------------------------------------------

TEST(StreamPlanWhere, NativeEqualityIsPushedAndTheRestFiltersLocally) {
  StreamRequest r = request("EmailCampaigns", "Status = 'SENT' AND Name != 'x'");
  r.fields = {"Status"};
  StreamSpec spec = plan(r);

  ASSERT_EQ(spec.pushed_filters.size(), 1u);
  EXPECT_EQ(spec.pushed_filters[0].field, "Status");
  EXPECT_EQ(spec.pushed_filters[0].op, FilterOp::kEq);
  ASSERT_EQ(spec.pushed_filters[0].values.size(), 1u);
  EXPECT_EQ(std::get<std::string>(spec.pushed_filters[0].values[0]), "SENT");
  EXPECT_EQ(spec.pushed_text, "Status = 'SENT'");
  EXPECT_EQ(spec.local_text, "Name != 'x'");

  // Key, cursor, the fields asked for, then Name: the local filter reads it.
  EXPECT_EQ(layout(spec), (std::vector<std::string>{"Id", "UpdatedAt", "Status", "Name"}));
  ASSERT_TRUE(spec.local_filter);
  EXPECT_TRUE(passes(spec, row_of(spec, {{"Id", std::int64_t{1}}, {"Name", std::string("y")}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {{"Id", std::int64_t{1}}, {"Name", std::string("x")}})));
  // NULL != 'x' is unknown, and only TRUE passes.
  EXPECT_FALSE(passes(spec, row_of(spec, {{"Id", std::int64_t{1}}})));
  // The pushed half is the server's: the local filter does not judge Status again.
  EXPECT_TRUE(passes(spec, row_of(spec, {{"Status", std::string("DRAFT")}, {"Name", std::string("y")}})));
}

TEST(StreamPlanWhere, FieldsReadLocallyAreAddedOnceUnderTheirCatalogNames) {
  // Lower-case names resolve to the catalog's; Name is listed by default and not added twice.
  StreamSpec all = plan(request("EmailCampaigns", "name != 'x' AND id != 3"));
  EXPECT_EQ(count_of(all, "Name"), 1u);
  EXPECT_EQ(count_of(all, "Id"), 1u);
  EXPECT_TRUE(all.pushed_filters.empty());
  EXPECT_TRUE(passes(all, row_of(all, {{"Id", std::int64_t{4}}, {"Name", std::string("y")}})));
  EXPECT_FALSE(passes(all, row_of(all, {{"Id", std::int64_t{3}}, {"Name", std::string("y")}})));

  StreamRequest r = request("EmailCampaigns", "scheduledmoment IS NULL");
  r.fields = {"Name"};
  StreamSpec spec = plan(r);
  EXPECT_EQ(layout(spec), (std::vector<std::string>{"Id", "UpdatedAt", "Name", "ScheduledMoment"}));
  EXPECT_TRUE(passes(spec, row_of(spec, {{"Id", std::int64_t{1}}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {{"ScheduledMoment", Timestamp{0}}})));
}

TEST(StreamPlanWhere, AnOrOfEqualitiesOnAnEqualityOnlyFieldStaysLocal) {
  // Status = 'A' OR Status = 'B' is Status IN ('A', 'B'), and EmailCampaigns filters Status
  // with `=` only.
  StreamSpec spec = plan(request("EmailCampaigns", "Status = 'A' OR Status = 'B'"));
  EXPECT_TRUE(spec.pushed_filters.empty());
  EXPECT_TRUE(spec.pushed_text.empty());
  EXPECT_FALSE(spec.local_text.empty());
  EXPECT_TRUE(passes(spec, row_of(spec, {{"Status", std::string("A")}})));
  EXPECT_TRUE(passes(spec, row_of(spec, {{"Status", std::string("B")}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {{"Status", std::string("C")}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {})));
}

TEST(StreamPlanWhere, InOnANativeInFieldIsPushedWithIntegerValues) {
  StreamSpec spec = plan(request("EmailCampaigns", "Id IN (1, 2)"));
  ASSERT_EQ(spec.pushed_filters.size(), 1u);
  EXPECT_EQ(spec.pushed_filters[0].field, "Id");
  EXPECT_EQ(spec.pushed_filters[0].op, FilterOp::kIn);
  EXPECT_EQ(ints(spec.pushed_filters[0].values), (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(spec.local_filter);
  EXPECT_TRUE(spec.local_text.empty());

  // An OR of equalities on a field that takes IN becomes one pushed IN.
  StreamSpec merged = plan(request("EmailCampaigns", "Id = 1 OR Id = 2 OR Id = 1"));
  ASSERT_EQ(merged.pushed_filters.size(), 1u);
  EXPECT_EQ(merged.pushed_filters[0].op, FilterOp::kIn);
  EXPECT_EQ(ints(merged.pushed_filters[0].values), (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(merged.local_filter);
}

TEST(StreamPlanWhere, ABareDateIsPushedAsMidnightInTheRequestZone) {
  auto pushed_instant = [](const model::TimeZone& zone) {
    StreamRequest r = request("EmailCampaigns", "UpdatedAt >= '2025-01-01'");
    r.zone = zone;
    StreamSpec spec = plan(r);
    EXPECT_EQ(spec.pushed_filters.size(), 1u);
    if (spec.pushed_filters.size() != 1u) return std::int64_t{-1};
    EXPECT_EQ(spec.pushed_filters[0].field, "UpdatedAt");
    EXPECT_EQ(spec.pushed_filters[0].op, FilterOp::kGe);
    EXPECT_FALSE(spec.local_filter);
    return std::get<Timestamp>(spec.pushed_filters[0].values.at(0)).ms;
  };
  const std::int64_t utc_midnight = 1735689600000;  // 2025-01-01T00:00:00Z
  EXPECT_EQ(pushed_instant(model::TimeZone::utc()), utc_midnight);
  EXPECT_EQ(pushed_instant(model::TimeZone::from_name("+02:00")), utc_midnight - 2 * 3600 * 1000);
  EXPECT_EQ(pushed_instant(model::TimeZone::from_name("-05:30")), utc_midnight + 330 * 60 * 1000);
  EXPECT_EQ(pushed_instant(model::TimeZone::from_name("Europe/Brussels")), utc_midnight - 3600 * 1000);
}

TEST(StreamPlanWhere, LocalTimestampsAreReadInTheRequestZoneToo) {
  // ScheduledMoment is not a native filter of EmailCampaigns.
  StreamRequest r = request("EmailCampaigns", "ScheduledMoment >= '2025-01-01'");
  r.zone = model::TimeZone::from_name("+02:00");
  StreamSpec spec = plan(r);
  EXPECT_TRUE(spec.pushed_filters.empty());
  const std::int64_t local_midnight = 1735689600000 - 2 * 3600 * 1000;
  EXPECT_TRUE(passes(spec, row_of(spec, {{"ScheduledMoment", Timestamp{local_midnight}}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {{"ScheduledMoment", Timestamp{local_midnight - 1}}})));
}

TEST(StreamPlanWhere, MultiValuedFieldsAreNeverPushed) {
  StreamSpec spec = plan(request("Forms", "SupportedLanguages = 'FR'"));
  EXPECT_TRUE(spec.pushed_filters.empty());
  EXPECT_TRUE(passes(spec, row_of(spec, {{"SupportedLanguages", std::vector<std::string>{"EN", "FR"}}})));
  EXPECT_FALSE(passes(spec, row_of(spec, {{"SupportedLanguages", std::vector<std::string>{"EN"}}})));

  // Even when the catalog would call the pair native: the server's `==` on an array is unknown.
  model::ObjectDescriptor forms = object("Forms");
  forms.native_filters["SupportedLanguages"] = {FilterOp::kEq, FilterOp::kIn};
  ASSERT_TRUE(forms.native("SupportedLanguages", FilterOp::kEq));
  StreamSpec guarded = plan_stream(request("Forms", "SupportedLanguages = 'FR' AND Id = 3"), forms);
  ASSERT_EQ(guarded.pushed_filters.size(), 1u);
  EXPECT_EQ(guarded.pushed_filters[0].field, "Id");
  EXPECT_EQ(guarded.local_text, "SupportedLanguages = 'FR'");
}

TEST(StreamPlanWhere, ExtendedFieldsCannotBeFiltered) {
  for (const char* name : {"EmailCampaignsExtended", "EmailCampaignTemplates"}) {
    std::string message = error_of([&] { plan(request(name, "Subject = 'Hello' AND Id = 1")); });
    EXPECT_TRUE(contains(message, "extended")) << message;
    EXPECT_TRUE(contains(message, "Subject")) << message;
  }
  // Also inside an OR or a NOT, and under another spelling.
  std::string message = error_of([&] { plan(request("EmailCampaignsExtended", "Id = 1 OR NOT subject IS NULL")); });
  EXPECT_TRUE(contains(message, "extended")) << message;
}

TEST(StreamPlanWhere, ErrorsCarryTheRequestLocation) {
  StreamRequest r = request("EmailCampaigns", "Nope = 1");
  r.location = "jobs.yaml:14:9";
  std::string message = error_of([&] { plan(r); });
  EXPECT_EQ(message.rfind("jobs.yaml:14:9: ", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "EmailCampaigns")) << message;
  EXPECT_TRUE(contains(message, "where")) << message;
  EXPECT_TRUE(contains(message, "unknown field Nope")) << message;
  EXPECT_TRUE(contains(message, "Status")) << "the known fields should be listed: " << message;

  r.where_text = "Status = ";
  message = error_of([&] { plan(r); });
  EXPECT_EQ(message.rfind("jobs.yaml:14:9: ", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "expected")) << message;

  // A value of the wrong type for a pushed field.
  r.where_text = "Id = 'abc'";
  message = error_of([&] { plan(r); });
  EXPECT_EQ(message.rfind("jobs.yaml:14:9: ", 0), 0u) << message;
}

TEST(StreamPlanWhere, NothingIsTakenOutOfNotOrOr) {
  StreamSpec negated = plan(request("EmailCampaigns", "NOT Status = 'SENT'"));
  EXPECT_TRUE(negated.pushed_filters.empty());
  EXPECT_TRUE(passes(negated, row_of(negated, {{"Status", std::string("DRAFT")}})));
  EXPECT_FALSE(passes(negated, row_of(negated, {{"Status", std::string("SENT")}})));

  StreamSpec not_in = plan(request("EmailCampaigns", "Id NOT IN (1, 2)"));
  EXPECT_TRUE(not_in.pushed_filters.empty());
  EXPECT_FALSE(passes(not_in, row_of(not_in, {{"Id", std::int64_t{2}}})));
  EXPECT_TRUE(passes(not_in, row_of(not_in, {{"Id", std::int64_t{3}}})));

  // Both sides native, but an OR across fields has no RSQL form.
  StreamSpec either = plan(request("EmailCampaigns", "Id = 1 OR Status = 'SENT'"));
  EXPECT_TRUE(either.pushed_filters.empty());
  EXPECT_TRUE(passes(either, row_of(either, {{"Id", std::int64_t{2}}, {"Status", std::string("SENT")}})));
  EXPECT_FALSE(passes(either, row_of(either, {{"Id", std::int64_t{2}}, {"Status", std::string("DRAFT")}})));

  // Only the top-level conjuncts move.
  StreamSpec mixed =
      plan(request("EmailCampaigns", "Status = 'SENT' AND (Id = 1 OR UpdatedAt >= '2025-01-01') AND NOT Id = 7"));
  ASSERT_EQ(mixed.pushed_filters.size(), 1u);
  EXPECT_EQ(mixed.pushed_filters[0].field, "Status");
  EXPECT_TRUE(contains(mixed.local_text, "OR")) << mixed.local_text;
  EXPECT_TRUE(contains(mixed.local_text, "NOT")) << mixed.local_text;
  EXPECT_TRUE(passes(mixed, row_of(mixed, {{"Id", std::int64_t{1}}})));
  EXPECT_FALSE(passes(mixed, row_of(mixed, {{"Id", std::int64_t{7}}, {"UpdatedAt", Timestamp{1735689600000}}})));
}

TEST(StreamPlanWhere, NoWhereMeansNoFilter) {
  StreamSpec spec = plan(request("EmailCampaigns"));
  EXPECT_TRUE(spec.pushed_filters.empty());
  EXPECT_TRUE(spec.pushed_text.empty());
  EXPECT_TRUE(spec.local_text.empty());
  EXPECT_FALSE(spec.local_filter);
  EXPECT_FALSE(spec.fan_out);
  EXPECT_TRUE(spec.projection.empty());
}

// ---- fan-out of nested objects ------------------------------------------------------------------

TEST(StreamPlanFanOut, ANestedObjectIsReadPerParent) {
  StreamSpec spec = plan_child(request("EmailCampaignResults"));
  ASSERT_TRUE(spec.fan_out);
  EXPECT_EQ(spec.fan_out->parent.name, "EmailCampaigns");
  EXPECT_EQ(spec.fan_out->path_param, "campaignId");
  EXPECT_EQ(spec.fan_out->parent_field, "Id");
  EXPECT_EQ(spec.fan_out->child_field, "CampaignId");
  EXPECT_FALSE(spec.fan_out->ids) << "without a filter on CampaignId every parent is listed";
  EXPECT_EQ(spec.mode, ReplicationMode::kFullRefresh);
  EXPECT_EQ(layout(spec).at(0), "CampaignId");
  EXPECT_EQ(layout(spec).at(1), "Id");
  EXPECT_EQ(spec.key_index, (std::vector<std::size_t>{0, 1}));
}

TEST(StreamPlanFanOut, TheParentFilterPicksTheParentSetAndIsNotSearched) {
  StreamSpec spec = plan_child(request("EmailCampaignResults", "CampaignId IN (3, 5) AND Status = 'COMPLETED'"));
  ASSERT_TRUE(spec.fan_out);
  ASSERT_TRUE(spec.fan_out->ids);
  EXPECT_EQ(ints(*spec.fan_out->ids), (std::vector<std::int64_t>{3, 5}));
  ASSERT_EQ(spec.pushed_filters.size(), 1u);
  EXPECT_EQ(spec.pushed_filters[0].field, "Status");
  EXPECT_EQ(spec.pushed_filters[0].op, FilterOp::kEq);
  EXPECT_EQ(std::get<std::string>(spec.pushed_filters[0].values.at(0)), "COMPLETED");
  for (const auto& c : spec.pushed_filters) EXPECT_NE(c.field, "CampaignId");
  EXPECT_FALSE(spec.local_filter);
}

TEST(StreamPlanFanOut, SeveralParentConstraintsIntersect) {
  StreamSpec spec = plan_child(request("EmailCampaignResults", "CampaignId IN (3, 5) AND CampaignId = 5"));
  ASSERT_TRUE(spec.fan_out && spec.fan_out->ids);
  EXPECT_EQ(ints(*spec.fan_out->ids), (std::vector<std::int64_t>{5}));
  EXPECT_TRUE(spec.pushed_filters.empty());

  // Disjoint sets: no parent at all (not "every parent").
  StreamSpec none = plan_child(request("EmailCampaignResults", "CampaignId IN (3) AND CampaignId IN (4)"));
  ASSERT_TRUE(none.fan_out);
  ASSERT_TRUE(none.fan_out->ids);
  EXPECT_TRUE(none.fan_out->ids->empty());

  // An OR of equalities is a set too.
  StreamSpec either = plan_child(request("EmailCampaignResults", "CampaignId = 3 OR CampaignId = 5"));
  ASSERT_TRUE(either.fan_out && either.fan_out->ids);
  EXPECT_EQ(ints(*either.fan_out->ids), (std::vector<std::int64_t>{3, 5}));
}

TEST(StreamPlanFanOut, ParentSetsAreNotBoundByTheSearchInLimit) {
  // The parent set is not a `search` constraint (contract 3.7): RSQL's 100-value =in= limit does
  // not apply, and 101 ids must not fall back to listing every parent.
  std::string in_list;
  std::vector<std::int64_t> expected;
  for (std::int64_t i = 1; i <= 101; ++i) {
    in_list += (i > 1 ? ", " : "") + std::to_string(i);
    expected.push_back(i);
  }
  StreamSpec spec = plan_child(request("EmailCampaignResults", "CampaignId IN (" + in_list + ")"));
  ASSERT_TRUE(spec.fan_out);
  ASSERT_TRUE(spec.fan_out->ids) << "101 parent ids: every parent would be listed";
  EXPECT_EQ(ints(*spec.fan_out->ids), expected);
  EXPECT_FALSE(spec.local_filter);
}

TEST(StreamPlanFanOut, OtherFiltersOnTheParentFieldStayLocal) {
  StreamSpec spec = plan_child(request("EmailCampaignResults", "CampaignId != 3"));
  ASSERT_TRUE(spec.fan_out);
  EXPECT_FALSE(spec.fan_out->ids);
  EXPECT_TRUE(spec.pushed_filters.empty());
  EXPECT_FALSE(passes(spec, row_of(spec, {{"CampaignId", std::int64_t{3}}, {"Id", std::int64_t{1}}})));
  EXPECT_TRUE(passes(spec, row_of(spec, {{"CampaignId", std::int64_t{4}}, {"Id", std::int64_t{1}}})));

  StreamSpec either = plan_child(request("EmailCampaignResults", "CampaignId = 3 OR Status = 'FAILED'"));
  EXPECT_FALSE(either.fan_out->ids) << "an OR across fields cannot pick the parent set";
  EXPECT_TRUE(either.pushed_filters.empty());
}

TEST(StreamPlanFanOut, AFormEqualityIsAOneValueSet) {
  StreamSpec spec = plan_child(request("FormParticipations", "FormId = 7"));
  ASSERT_TRUE(spec.fan_out);
  EXPECT_EQ(spec.fan_out->parent.name, "Forms");
  EXPECT_EQ(spec.fan_out->path_param, "formId");
  ASSERT_TRUE(spec.fan_out->ids);
  EXPECT_EQ(ints(*spec.fan_out->ids), (std::vector<std::int64_t>{7}));
  EXPECT_TRUE(spec.pushed_filters.empty());

  StreamSpec with_profile = plan_child(request("FormParticipations", "ProfileId = 9 AND FormId = 7"));
  ASSERT_TRUE(with_profile.fan_out->ids);
  EXPECT_EQ(ints(*with_profile.fan_out->ids), (std::vector<std::int64_t>{7}));
  ASSERT_EQ(with_profile.pushed_filters.size(), 1u);
  EXPECT_EQ(with_profile.pushed_filters[0].field, "ProfileId");

  // IN on the parent field is a set too, although `search` would only take `=` (it never sees it).
  StreamSpec two = plan_child(request("FormParticipations", "FormId IN (7, 8)"));
  ASSERT_TRUE(two.fan_out->ids);
  EXPECT_EQ(ints(*two.fan_out->ids), (std::vector<std::int64_t>{7, 8}));
  EXPECT_TRUE(two.pushed_filters.empty());
}

TEST(StreamPlanFanOut, ANestedObjectNeedsItsParent) {
  const model::ObjectDescriptor& results = object("EmailCampaignResults");
  std::string message = error_of([&] { plan_stream(request("EmailCampaignResults"), results); }, ErrorKind::kPermanent);
  EXPECT_TRUE(contains(message, "EmailCampaigns")) << message;
  // The wrong parent is no better.
  message = error_of([&] { plan_stream(request("EmailCampaignResults"), results, &object("Forms")); },
                     ErrorKind::kPermanent);
  EXPECT_TRUE(contains(message, "EmailCampaigns")) << message;
}

// ---- extended fields ----------------------------------------------------------------------------

void expect_extended_flags_match_the_catalog(const StreamSpec& spec) {
  for (const auto& f : spec.fields) {
    const model::FieldDescriptor* d = spec.object.find_field(f.name);
    ASSERT_NE(d, nullptr) << f.name;
    EXPECT_EQ(f.extended, d->extended) << f.name;
  }
}

TEST(StreamPlanExtended, ExtendedFieldsAreFetchedPerRowByDefault) {
  StreamSpec spec = plan(request("EmailCampaignTemplates"));
  EXPECT_EQ(spec.extended, ExtendedFetch::kFetch);
  expect_extended_flags_match_the_catalog(spec);
  EXPECT_TRUE(spec.fields[index_of(spec, "Subject")].extended);
  EXPECT_TRUE(spec.fields[index_of(spec, "HtmlContent")].extended);
  EXPECT_FALSE(spec.fields[index_of(spec, "Id")].extended);
  EXPECT_FALSE(spec.fields[index_of(spec, "Name")].extended);
}

TEST(StreamPlanExtended, SuppressionKeepsTheStoredValuesWhereTheObjectAllowsIt) {
  StreamRequest r = request("EmailCampaignTemplates");
  r.suppress_extended_requests = true;
  StreamSpec spec = plan(r);
  EXPECT_EQ(spec.extended, ExtendedFetch::kKeep);
  EXPECT_TRUE(spec.fields[index_of(spec, "Subject")].extended) << "the columns stay in the layout";

  StreamRequest sms = request("SMSCampaigns");
  sms.suppress_extended_requests = true;
  EXPECT_EQ(plan(sms).extended, ExtendedFetch::kKeep);

  // EmailCampaignsExtended exists for its extended fields: it always fetches them.
  StreamRequest ext = request("EmailCampaignsExtended");
  EXPECT_EQ(plan(ext).extended, ExtendedFetch::kFetch);
  ext.suppress_extended_requests = true;
  StreamSpec ext_spec = plan(ext);
  EXPECT_EQ(ext_spec.extended, ExtendedFetch::kFetch);
  expect_extended_flags_match_the_catalog(ext_spec);
}

TEST(StreamPlanExtended, OnlyStreamsHoldingExtendedFieldsFetch) {
  StreamRequest r = request("EmailCampaignTemplates");
  r.fields = {"Name", "Status"};
  StreamSpec list_only = plan(r);
  EXPECT_EQ(list_only.extended, ExtendedFetch::kNone);
  for (const auto& f : list_only.fields) EXPECT_FALSE(f.extended) << f.name;

  r.fields = {"Name", "Subject"};
  StreamSpec one = plan(r);
  EXPECT_EQ(one.extended, ExtendedFetch::kFetch);
  EXPECT_EQ(layout(one), (std::vector<std::string>{"Id", "UpdatedAt", "Name", "Subject"}));

  EXPECT_EQ(plan(request("EmailCampaigns")).extended, ExtendedFetch::kNone);
  StreamRequest suppressed = request("EmailCampaigns");
  suppressed.suppress_extended_requests = true;
  EXPECT_EQ(plan(suppressed).extended, ExtendedFetch::kNone);
}

// ---- deletes, mode, layout ----------------------------------------------------------------------

TEST(StreamPlanDeletes, DeleteSettingsAreCopied) {
  StreamSpec plain = plan(request("EmailCampaigns"));
  EXPECT_FALSE(plain.detect_deletes);
  EXPECT_EQ(plain.detect_deletes_every, 0ms);

  StreamRequest r = request("EmailCampaigns");
  r.detect_deletes = true;
  r.detect_deletes_every = 6h;
  StreamSpec spec = plan(r);
  EXPECT_TRUE(spec.detect_deletes);
  EXPECT_EQ(spec.detect_deletes_every, std::chrono::milliseconds(6h));

  StreamRequest child = request("EmailCampaignResults");
  child.detect_deletes = true;
  child.detect_deletes_every = 1h;
  StreamSpec child_spec = plan_child(child);
  EXPECT_TRUE(child_spec.detect_deletes);
  EXPECT_EQ(child_spec.detect_deletes_every, std::chrono::milliseconds(1h));
}

TEST(StreamPlanMode, FullRefreshOfAnIncrementalObjectDropsTheCursor) {
  StreamRequest r = request("EmailCampaigns");
  r.fields = {"Name"};
  StreamSpec incremental = plan(r);
  EXPECT_EQ(incremental.mode, ReplicationMode::kIncrementalUpdated);
  EXPECT_EQ(layout(incremental), (std::vector<std::string>{"Id", "UpdatedAt", "Name"}));
  ASSERT_TRUE(incremental.cursor_index);
  EXPECT_EQ(*incremental.cursor_index, 1u);

  r.mode = ReplicationMode::kFullRefresh;
  r.detect_deletes = true;
  StreamSpec full = plan(r);
  EXPECT_EQ(full.mode, ReplicationMode::kFullRefresh);
  EXPECT_EQ(layout(full), (std::vector<std::string>{"Id", "Name"}));
  EXPECT_FALSE(full.cursor_index);
  EXPECT_EQ(full.key_index, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(full.detect_deletes);

  // Incremental on an object without a cursor is a config error naming the stream.
  StreamRequest bad = request("EmailCampaignResults");
  bad.mode = ReplicationMode::kIncrementalUpdated;
  bad.location = "jobs.yaml:20:15";
  std::string message = error_of([&] { plan_child(bad); });
  EXPECT_EQ(message.rfind("jobs.yaml:20:15: ", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "mode: full")) << message;
}

TEST(StreamPlanLayout, UnknownFieldsAndPageSizesAreConfigErrors) {
  StreamRequest r = request("EmailCampaigns");
  r.fields = {"Nme"};
  r.location = "jobs.yaml:3:4";
  std::string message = error_of([&] { plan(r); });
  EXPECT_EQ(message.rfind("jobs.yaml:3:4: ", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "Nme")) << message;

  StreamRequest p = request("EmailCampaigns");
  EXPECT_EQ(plan(p).page_size, 200);
  p.page_size = 50;
  EXPECT_EQ(plan(p).page_size, 50);
  p.page_size = 201;
  error_of([&] { plan(p); });
  p.page_size = 0;
  error_of([&] { plan(p); });
}

}  // namespace
}  // namespace replicator::engine
