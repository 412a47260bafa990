#include "bench/loadgen/report.h"

#include <string>

#include "gtest/gtest.h"

namespace ensemble::bench {
namespace {

double NumberAfter(const std::string& text, const std::string& key) {
  size_t at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

Report SampleReport() {
  Report r;
  r.mode = "ops";
  r.params = {{"sessions", "2"}, {"mix", "getData=1"}};
  r.elapsed_s = 2;
  r.stopped_by = "time";
  OpResult get{"getData", {}, true};
  for (int i = 1; i <= 1000; ++i) get.latency_ns.Record(static_cast<uint64_t>(i) * 1000);
  r.ops.push_back(get);
  r.figures.push_back({"rounds", 3});
  return r;
}

TEST(ReportTest, TextHasRowsAndSaysNoErrors) {
  std::string text = FormatText(SampleReport());
  EXPECT_NE(text.find("mode ops sessions=2 mix=getData=1"), std::string::npos) << text;
  EXPECT_NE(text.find("getData"), std::string::npos);
  EXPECT_NE(text.find("500.0"), std::string::npos) << text;  // ops/s = 1000 / 2 s
  EXPECT_NE(text.find("errors: none"), std::string::npos);
}

TEST(ReportTest, ErrorsAreListedPerOpAndCode) {
  Report r = SampleReport();
  r.errors.Add("setData", -101, 3);
  r.errors.Add("setData", -101);
  r.errors.Add("create", -110);
  r.errors.AddNote("connection to 127.0.0.1:1 closed by the server");
  EXPECT_EQ(r.errors.total(), 6u);
  std::string text = FormatText(r);
  EXPECT_NE(text.find("errors: 6"), std::string::npos) << text;
  EXPECT_NE(text.find("NONODE (-101)"), std::string::npos) << text;
  EXPECT_NE(text.find("NODEEXISTS (-110)"), std::string::npos) << text;
  EXPECT_NE(text.find("closed by the server (x1)"), std::string::npos) << text;
  std::string json = FormatJson(r);
  EXPECT_NE(json.find(R"({"op":"setData","code":-101,"name":"NONODE","count":4})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("total":6)"), std::string::npos) << json;
}

TEST(ReportTest, JsonCarriesPercentilesInMicroseconds) {
  std::string json = FormatJson(SampleReport());
  EXPECT_NE(json.find(R"("getData":{"count":1000,"per_second":500,)"), std::string::npos) << json;
  // 500 us to the histogram's precision (+1/128 at most).
  double p50 = NumberAfter(json, R"("p50":)");
  EXPECT_GE(p50, 500.0) << json;
  EXPECT_LE(p50, 500.0 * 129 / 128) << json;
  EXPECT_NE(json.find(R"("max":1000)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("figures":{"rounds":3})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("errors":{"total":0,"by_code":[],"notes":{}})"), std::string::npos)
      << json;
}

TEST(ReportTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("a\"b\\c\nd\x01"), R"("a\"b\\c\nd\u0001")");
}

TEST(ReportTest, ErrorMergeAddsUp) {
  ErrorCounts a, b;
  a.Add("getData", -4);
  b.Add("getData", -4, 2);
  b.AddNote("x");
  a.Merge(b);
  ASSERT_EQ(a.Entries().size(), 1u);
  EXPECT_EQ(a.Entries()[0].count, 3u);
  EXPECT_EQ(a.total(), 4u);
}

}  // namespace
}  // namespace ensemble::bench
