// The WordPiece tokenizer: hand-worked cases (each expectation derived by following the steps in
// src/data/wordpiece.h), the golden file from the Python reference when present, and a direct comparison
// with the Python reference (scripts/fixtures/wordpiece.py) on SST-2's dev set and tricky Unicode when
// /usr/bin/python3 is there.
#include <gtest/gtest.h>

#include <fstream>

#include "core/file_util.h"
#include "data/file_reading.h"
#include "data/wordpiece.h"
#include "test_support.h"

namespace act::data {
namespace {

WordPieceTokenizer SmallTokenizer() {
  Expected<WordPieceTokenizer> t = WordPieceTokenizer::FromTokens(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "the", "cafe", "naive", ",", "!", ".",
       "'", "s", "hello", "world", "中", "##s", "run", "##ning", "οδος", "a", "##b"},
      "small vocab");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

using Tokens = std::vector<std::string>;

TEST(WordPieceTest, ContinuationPiecesAreGreedyLongestFirst) {
  WordPieceTokenizer t = SmallTokenizer();
  // "unaffable": longest prefix in vocab "un", then "##aff", then "##able".
  EXPECT_EQ(t.Tokenize("UNaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(t.Tokenize("running runs"), (Tokens{"run", "##ning", "run", "##s"}));
  // "ab" is not in the vocab; "a" then "##b" is.
  EXPECT_EQ(t.Tokenize("ab"), (Tokens{"a", "##b"}));
}

TEST(WordPieceTest, UnknownWordsBecomeOneUnk) {
  WordPieceTokenizer t = SmallTokenizer();
  // "unknown": "un" matches, then no "##k..." piece: the whole word is [UNK], not "un [UNK]".
  EXPECT_EQ(t.Tokenize("the unknown world"), (Tokens{"the", "[UNK]", "world"}));
  // More than 100 characters: [UNK] without trying (even though "a" + "##b"... would match).
  std::string long_word = "a";
  for (int i = 0; i < 100; ++i) long_word += "b";
  EXPECT_EQ(t.Tokenize(long_word), (Tokens{"[UNK]"}));
  EXPECT_EQ(t.Tokenize(long_word.substr(0, 100)).size(), 100u);  // exactly 100: a, then 99 x ##b
}

TEST(WordPieceTest, AccentsAreStrippedAfterLowerCasing) {
  WordPieceTokenizer t = SmallTokenizer();
  EXPECT_EQ(t.BasicTokenize("Café NAÏVE"), (Tokens{"cafe", "naive"}));
  EXPECT_EQ(t.Tokenize("Café"), (Tokens{"cafe"}));
  // Latin Extended-A: Ł has no decomposition (stays, lower-cased); ő → o; Ž → z.
  EXPECT_EQ(t.BasicTokenize("Łódź Őrség Žižkov"), (Tokens{"łodz", "orseg", "zizkov"}));
  // U+0130 (İ) lower-cases to "i" + U+0307, whose combining mark is stripped.
  EXPECT_EQ(t.BasicTokenize("İstanbul"), (Tokens{"istanbul"}));
  // Greek: accents go, capital sigma at the end of a word becomes final sigma.
  EXPECT_EQ(t.BasicTokenize("ΟΔΌΣ"), (Tokens{"οδος"}));
  EXPECT_EQ(t.BasicTokenize("ΟΔΌΣ").front().substr(6), "\xCF\x82");  // ς, U+03C2
  // Hangul syllables decompose to jamo (NFD), which are not marks and stay.
  EXPECT_EQ(t.BasicTokenize("한"), (Tokens{"\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"}));
}

TEST(WordPieceTest, PunctuationIsSplitOffAndCjkIsSpaced) {
  WordPieceTokenizer t = SmallTokenizer();
  EXPECT_EQ(t.BasicTokenize("hello,world!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(t.BasicTokenize("it's..."), (Tokens{"it", "'", "s", ".", ".", "."}));
  // $ and ^ are ASCII punctuation for BERT though Unicode calls them symbols; « is Pi.
  EXPECT_EQ(t.BasicTokenize("$5^«x»"), (Tokens{"$", "5", "^", "«", "x", "»"}));
  EXPECT_EQ(t.BasicTokenize("ab中文cd"), (Tokens{"ab", "中", "文", "cd"}));
  EXPECT_EQ(t.Tokenize("中文"), (Tokens{"中", "[UNK]"}));
}

TEST(WordPieceTest, CleaningDropsControlsAndNormalisesWhitespace) {
  WordPieceTokenizer t = SmallTokenizer();
  // \x01 (Cc) and U+200B (Cf) vanish without splitting; \t, \n and U+00A0 (Zs) split; U+2028 splits too.
  EXPECT_EQ(t.BasicTokenize("hel\x01lo\twor\xE2\x80\x8Bld\nthe\xC2\xA0" "cafe\xE2\x80\xA8" "a"),
            (Tokens{"hello", "world", "the", "cafe", "a"}));
  // Invalid UTF-8 bytes decode to U+FFFD, which cleaning drops.
  EXPECT_EQ(t.BasicTokenize("he\xFFllo"), (Tokens{"hello"}));
}

TEST(WordPieceTest, EncodeAddsSpecialTokensTruncatesAndPads) {
  WordPieceTokenizer t = SmallTokenizer();
  // ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3, un=5 ##aff=6 ##able=7, the=8, hello=16, world=17.
  WordPieceTokenizer::Encoding e = t.Encode("hello world", 6);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 16, 17, 3, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>(6, 0)));
  // Truncation keeps max_length - 2 word pieces (here 2 of "un ##aff ##able the"), then [SEP].
  e = t.Encode("unaffable the", 4);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 5, 6, 3}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1}));
  e = t.Encode("", 3);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 3, 0}));
}

TEST(WordPieceTest, VocabWithoutUnkIsRefusedNamingTheFile) {
  const std::string dir = test::TempDir("wordpiece_vocab");
  const std::string path = dir + "/vocab.txt";
  ASSERT_TRUE(AtomicWriteFile(path, "[PAD]\n[CLS]\n[SEP]\nhello\n").ok());
  Expected<WordPieceTokenizer> t = WordPieceTokenizer::FromVocabFile(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(t.status().message().find(path), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("[UNK]"), std::string::npos) << t.status().message();
}

// The golden file written by the Python reference: lines `text<TAB>space-separated input ids` (or with
// the word pieces in between); compared on whatever columns it has.
TEST(WordPieceTest, MatchesPythonGoldenFile) {
  const std::string golden = test::RepoPath("examples/sst2_bert/tokenized_samples.tsv");
  const std::string vocab = test::RepoPath("examples/sst2_bert/vocab.txt");
  if (!FileExists(golden) || !FileExists(vocab)) GTEST_SKIP() << "examples/sst2_bert/tokenized_samples.tsv not present yet";
  Expected<WordPieceTokenizer> t = WordPieceTokenizer::FromVocabFile(vocab);
  ASSERT_TRUE(t.ok()) << t.status().message();
  Expected<std::string> text = ReadFileToString(golden);
  ASSERT_TRUE(text.ok());
  int compared = 0;
  for (const std::string& line : SplitLines(*text)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 2 || cols[0] == "text") continue;
    // The ids column: the last one made only of digits and spaces.
    std::string ids_col;
    for (const auto& c : cols) {
      if (!c.empty() && c.find_first_not_of("0123456789 ") == std::string::npos) ids_col = c;
    }
    ASSERT_FALSE(ids_col.empty()) << "no id column in: " << line;
    std::vector<int64_t> want;
    for (size_t p = 0; p < ids_col.size();) {
      size_t q = ids_col.find(' ', p);
      if (q == std::string::npos) q = ids_col.size();
      if (q > p) want.push_back(std::stoll(ids_col.substr(p, q - p)));
      p = q + 1;
    }
    WordPieceTokenizer::Encoding e = t->Encode(cols[0], 64);
    std::vector<int64_t> got = e.input_ids;
    if (want.size() < got.size()) got.resize(want.size());  // the golden may list only the unpadded ids
    EXPECT_EQ(got, want) << "text: " << cols[0];
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

// Token for token against the Python reference, on SST-2's dev sentences and hand-picked Unicode.
TEST(WordPieceTest, MatchesPythonReferenceOnRealAndTrickyText) {
  const std::string dev = test::SharedDataPath("sst2/dev.tsv");
  ACT_SKIP_IF_EMPTY(dev, "../shared/data/sst2/dev.tsv");
  const std::string vocab = test::RepoPath("examples/sst2_bert/vocab.txt");
  if (!FileExists("/usr/bin/python3") || !FileExists(vocab)) GTEST_SKIP() << "/usr/bin/python3 or the SST-2 vocab.txt missing";
  Expected<std::string> dev_text = ReadFileToString(dev);
  ASSERT_TRUE(dev_text.ok());
  std::vector<std::string> texts;
  for (const auto& line : SplitLines(*dev_text)) {
    size_t tab = line.rfind('\t');
    if (tab != std::string::npos && line.substr(0, tab) != "text") texts.push_back(line.substr(0, tab));
  }
  for (const char* s : {"Café NAÏVE Łódź Őrség", "ΟΔΌΣ σοφίας ΣΑΣ", "İstanbul ǅemal ﬁne Ⅻ", "한국어 テスト 中文字",
                        "e\xCC\x81" "e \xE2\x80\x8B zero\xC2\xADwidth", "«quotes» — dash… ¿qué?", "x\xE2\x80\xA8y",
                        "$100 ^_^ @home #tag", "ÀÉÎÕÜ àéîõü ÇçÑñ Ææ Øø Åå ß", "Ǆ ǈ Ǳ ǲ Ǯ ǯ ʼn ẞ"}) {
    texts.push_back(s);
  }
  const std::string dir = test::TempDir("wordpiece_python");
  std::string joined;
  for (const auto& s : texts) joined += s + "\n";
  ASSERT_TRUE(AtomicWriteFile(dir + "/texts.txt", joined).ok());
  const std::string script =
      "import sys; sys.path.insert(0, sys.argv[1]); import wordpiece as w; v = w.load_vocab(sys.argv[2]); "
      "out = open(sys.argv[4], 'w', encoding='utf-8'); "
      "[out.write(' '.join(w.tokenize(l[:-1], v)) + '\\n') for l in open(sys.argv[3], encoding='utf-8', newline='\\n')]";
  test::CommandResult r = test::RunCommand("/usr/bin/python3 -c \"" + script + "\" " +
                                           test::RepoPath("scripts/fixtures") + " " + vocab + " " + dir + "/texts.txt " +
                                           dir + "/tokens.txt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Expected<std::string> py = ReadFileToString(dir + "/tokens.txt");
  ASSERT_TRUE(py.ok());
  std::vector<std::string> py_lines = SplitLines(*py);
  ASSERT_EQ(py_lines.size(), texts.size());
  Expected<WordPieceTokenizer> t = WordPieceTokenizer::FromVocabFile(vocab);
  ASSERT_TRUE(t.ok()) << t.status().message();
  int mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string ours;
    for (const auto& piece : t->Tokenize(texts[i])) ours += (ours.empty() ? "" : " ") + piece;
    if (ours != py_lines[i]) {
      ++mismatches;
      ADD_FAILURE() << "text: " << texts[i] << "\n  ours:   " << ours << "\n  python: " << py_lines[i];
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << texts.size() << " texts";
}

}  // namespace
}  // namespace act::data
