// Small string helpers used in error messages.
#pragma once

#include <string>
#include <vector>

namespace act {

// Levenshtein distance (insert, delete, substitute each cost 1).
size_t EditDistance(const std::string& a, const std::string& b);
// The candidate closest to `word` by edit distance (case-insensitive), or "" when none is close enough to
// be a plausible typo (distance more than half the word's length).
std::string NearestName(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);
std::string Join(const std::vector<std::string>& parts, const std::string& separator);
std::string ToLower(std::string s);

}  // namespace act
