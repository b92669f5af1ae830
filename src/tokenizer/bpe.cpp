#include "tokenizer/bpe.h"

#include <queue>
#include <string>

#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::tok {

BytePairEncoder::BytePairEncoder(const Vocab& vocab, const TokenIndex& index, PreTokenizer pre)
    : index_(index), pre_(std::move(pre)) {
  int missing = 0;
  for (int b = 0; b < 256; ++b) {
    byte_token_[b] = index_.find(unicode::byte_to_unicode(uint8_t(b)));
    missing += byte_token_[b] < 0;
  }
  if (missing > 0)
    log_warn("tokenizer: {} of the 256 byte tokens are missing from the vocab; such bytes are "
             "dropped when encoding", missing);

  // Merges are keyed by the ids of both halves: merging then never builds strings.
  merges_.reserve(vocab.merges.size());
  size_t skipped = 0;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& m = vocab.merges[rank];
    // Split at the first space after position 0 (a half may itself be a mapped space, never a
    // literal one, in byte-level vocabs).
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) fail("tokenizer.ggml.merges[{}] = '{}' is not of the form 'a b'", rank, m);
    const std::string_view a(m.data(), sp), b(m.data() + sp + 1, m.size() - sp - 1);
    const int32_t ia = index_.find(a), ib = index_.find(b);
    std::string joined;
    joined.reserve(a.size() + b.size());
    joined.append(a).append(b);
    const int32_t ir = index_.find(joined);
    if (ia < 0 || ib < 0 || ir < 0) {
      ++skipped;
      continue;
    }
    merges_.emplace(pair_key(ia, ib), Merge{int32_t(rank), ir});  // first (lowest) rank wins
  }
  if (skipped > 0)
    log_debug("tokenizer: {} merges refer to texts that are not tokens and are ignored", skipped);
}

void BytePairEncoder::encode(std::string_view text, std::vector<int32_t>& out) const {
  SplitScratch scratch;
  std::vector<std::string_view> pieces;
  pre_tokenize(pre_, text, scratch, pieces);
  for (std::string_view piece : pieces) encode_word(piece, out);
}

void BytePairEncoder::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (pre_.ignore_merges || word.size() == 1) {
    std::string mapped;
    mapped.reserve(word.size() * 2);
    for (char ch : word) mapped += unicode::byte_to_unicode(uint8_t(ch));
    const int32_t id = index_.find(mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  // One symbol per byte, merged pairwise by lowest rank (leftmost first on ties), as in HF's BPE.
  struct Symbol {
    int32_t id, prev, next;
  };
  struct Candidate {
    int32_t rank, left, left_id, right_id;
    bool operator<(const Candidate& o) const {  // priority_queue pops the largest
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  const int32_t n = int32_t(word.size());
  std::vector<Symbol> sym(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) sym[size_t(i)] = {byte_token_[uint8_t(word[size_t(i)])], i - 1, i + 1 < n ? i + 1 : -1};

  std::priority_queue<Candidate> queue;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = sym[size_t(left)].next;
    if (right < 0) return;
    const int32_t a = sym[size_t(left)].id, b = sym[size_t(right)].id;
    if (a < 0 || b < 0) return;
    auto it = merges_.find(pair_key(a, b));
    if (it != merges_.end()) queue.push({it->second.rank, left, a, b});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(c.left)];
    if (l.id != c.left_id || l.next < 0) continue;  // stale: the left symbol changed
    Symbol& r = sym[size_t(l.next)];
    if (r.id != c.right_id) continue;               // stale: the right neighbour changed
    l.id = merges_.at(pair_key(c.left_id, c.right_id)).result;
    const int32_t gone = l.next;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = c.left;
    sym[size_t(gone)].id = -2;  // dead; a stale candidate can never match it again
    consider(l.prev);
    consider(c.left);
  }

  for (int32_t i = 0; i >= 0; i = sym[size_t(i)].next)
    if (sym[size_t(i)].id >= 0) out.push_back(sym[size_t(i)].id);
}

}  // namespace bitnet::tok
