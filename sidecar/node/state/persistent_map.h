// PersistentMap: an immutable ordered map with structural sharing.
//
// WHY: the metadata State is published to readers as an immutable value and
// the next version must share what did not change. A persistent AVL tree with
// path copying gives that: set() and erase() copy only the O(log n) nodes on
// the path from the root to the key and share every other node with the
// previous version. Copying a PersistentMap is O(1) (one shared_ptr), and
// changing a copy never affects any other copy. Ordered iteration and
// lower_bound() serve the list and prefix queries of the services.
// (A hash-sharded copy-on-write map would be simpler but loses order, which
// ListTopics, FetchOffsets of a group and the watch log all rely on.)
//
// Values are copied into every node on a copied path, so keep V cheap to copy
// (a std::shared_ptr<const T> for anything large).
//
// THREAD SAFETY: nodes are never mutated after construction. Any number of
// threads may read the same PersistentMap (or different copies)
// concurrently; a mutating call on one object requires external
// synchronization with other calls on that same object only. Iterators hold
// raw pointers into the tree: they are valid while the map they came from
// (or any copy sharing the same root) is alive.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace raftmeta::state {

template <typename K, typename V, typename Less = std::less<K>>
class PersistentMap {
  struct Node;
  using NodePtr = std::shared_ptr<const Node>;

  struct Node {
    Node(K k, V v, NodePtr l, NodePtr r)
        : key(std::move(k)), value(std::move(v)), left(std::move(l)), right(std::move(r)) {
      height = 1 + std::max(height_of(left), height_of(right));
      size = 1 + size_of(left) + size_of(right);
    }
    K key;
    V value;
    NodePtr left;
    NodePtr right;
    int height = 1;
    std::size_t size = 1;
  };

 public:
  // In-order (ascending key) iteration.
  class Iterator {
   public:
    Iterator() = default;
    const K& key() const { return stack_.back()->key; }
    const V& value() const { return stack_.back()->value; }
    Iterator& operator++() {
      const Node* n = stack_.back();
      stack_.pop_back();
      push_left(n->right.get());
      return *this;
    }
    bool operator==(const Iterator& other) const {
      if (stack_.empty() || other.stack_.empty()) return stack_.empty() == other.stack_.empty();
      return stack_.back() == other.stack_.back();
    }

   private:
    friend class PersistentMap;
    void push_left(const Node* n) {
      while (n != nullptr) {
        stack_.push_back(n);
        n = n->left.get();
      }
    }
    std::vector<const Node*> stack_;  // ancestors still to visit; back() = current
  };

  PersistentMap() = default;

  std::size_t size() const { return size_of(root_); }
  bool empty() const { return root_ == nullptr; }

  // Pointer to the value of `key`, or nullptr. Valid while this map lives.
  const V* find(const K& key) const {
    const Node* n = root_.get();
    while (n != nullptr) {
      if (less_(key, n->key)) {
        n = n->left.get();
      } else if (less_(n->key, key)) {
        n = n->right.get();
      } else {
        return &n->value;
      }
    }
    return nullptr;
  }
  bool contains(const K& key) const { return find(key) != nullptr; }

  // Inserts or replaces. O(log n) new nodes; the rest is shared.
  void set(K key, V value) { root_ = insert(root_, std::move(key), std::move(value)); }

  // Removes `key` if present; returns whether it was.
  bool erase(const K& key) {
    bool erased = false;
    NodePtr next = remove(root_, key, &erased);
    if (erased) root_ = std::move(next);
    return erased;
  }

  Iterator begin() const {
    Iterator it;
    it.push_left(root_.get());
    return it;
  }
  Iterator end() const { return Iterator(); }

  // First element whose key is not less than `key`.
  Iterator lower_bound(const K& key) const {
    Iterator it;
    const Node* n = root_.get();
    while (n != nullptr) {
      if (!less_(n->key, key)) {
        it.stack_.push_back(n);
        n = n->left.get();
      } else {
        n = n->right.get();
      }
    }
    return it;
  }

  // Identity of the root node: two maps with the same identity hold the same
  // tree (used by tests to prove sharing).
  const void* root_identity() const { return root_.get(); }

  // Height of the tree (tests check the AVL bound).
  int height() const { return height_of(root_); }

 private:
  static int height_of(const NodePtr& n) { return n ? n->height : 0; }
  static std::size_t size_of(const NodePtr& n) { return n ? n->size : 0; }

  static NodePtr make(K key, V value, NodePtr left, NodePtr right) {
    return std::make_shared<const Node>(std::move(key), std::move(value), std::move(left),
                                        std::move(right));
  }

  // Builds a node from parts whose heights differ by at most 2, rotating so
  // that they differ by at most 1 (AVL).
  static NodePtr balance(K key, V value, NodePtr left, NodePtr right) {
    const int hl = height_of(left);
    const int hr = height_of(right);
    if (hl > hr + 1) {
      if (height_of(left->left) >= height_of(left->right)) {
        return make(left->key, left->value, left->left,
                    make(std::move(key), std::move(value), left->right, std::move(right)));
      }
      const Node& lr = *left->right;
      return make(lr.key, lr.value, make(left->key, left->value, left->left, lr.left),
                  make(std::move(key), std::move(value), lr.right, std::move(right)));
    }
    if (hr > hl + 1) {
      if (height_of(right->right) >= height_of(right->left)) {
        return make(right->key, right->value,
                    make(std::move(key), std::move(value), std::move(left), right->left),
                    right->right);
      }
      const Node& rl = *right->left;
      return make(rl.key, rl.value,
                  make(std::move(key), std::move(value), std::move(left), rl.left),
                  make(right->key, right->value, rl.right, right->right));
    }
    return make(std::move(key), std::move(value), std::move(left), std::move(right));
  }

  NodePtr insert(const NodePtr& n, K&& key, V&& value) const {
    if (!n) return make(std::move(key), std::move(value), nullptr, nullptr);
    if (less_(key, n->key)) {
      return balance(n->key, n->value, insert(n->left, std::move(key), std::move(value)), n->right);
    }
    if (less_(n->key, key)) {
      return balance(n->key, n->value, n->left, insert(n->right, std::move(key), std::move(value)));
    }
    return make(std::move(key), std::move(value), n->left, n->right);
  }

  // Removes the smallest node of `n`; *min receives it.
  static NodePtr remove_min(const NodePtr& n, NodePtr* min) {
    if (!n->left) {
      *min = n;
      return n->right;
    }
    return balance(n->key, n->value, remove_min(n->left, min), n->right);
  }

  NodePtr remove(const NodePtr& n, const K& key, bool* erased) const {
    if (!n) return nullptr;
    if (less_(key, n->key)) {
      NodePtr left = remove(n->left, key, erased);
      if (!*erased) return n;
      return balance(n->key, n->value, std::move(left), n->right);
    }
    if (less_(n->key, key)) {
      NodePtr right = remove(n->right, key, erased);
      if (!*erased) return n;
      return balance(n->key, n->value, n->left, std::move(right));
    }
    *erased = true;
    if (!n->left) return n->right;
    if (!n->right) return n->left;
    NodePtr min;
    NodePtr right = remove_min(n->right, &min);
    return balance(min->key, min->value, n->left, std::move(right));
  }

  NodePtr root_;
  [[no_unique_address]] Less less_;
};

}  // namespace raftmeta::state
