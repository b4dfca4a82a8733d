// PersistentMap: an ordered map with structural sharing.
//
// WHY: the metadata State is published to readers as an immutable value and
// the next version must share what did not change. A persistent AVL tree with
// path copying gives that: set() and erase() copy only the O(log n) nodes on
// the path from the root to the key and share every other node with the
// previous version. Copying a PersistentMap is O(1) (one reference), and
// changing a copy never affects any other copy. Ordered iteration and
// lower_bound() serve the list and prefix queries of the services.
// (A hash-sharded copy-on-write map would be simpler but loses order, which
// ListTopics, FetchOffsets of a group and the watch log all rely on.)
//
// Nodes this map alone references are changed in place instead of copied:
// a node whose reference count is one, reached from the root through nodes
// whose counts are one, is unreachable from any other map. So the apply loop,
// which publishes a copy of its working State once per batch, path-copies a
// key's path once per batch and then updates it in place for the rest of the
// batch (most of an apply loop's allocations were these copies).
//
// Values are copied into every node on a copied path, so keep V cheap to copy
// (a std::shared_ptr<const T> for anything large).
//
// THREAD SAFETY: any number of threads may read the same PersistentMap (or
// different copies) concurrently; a mutating call on one object requires
// external synchronization with other calls on that same object only. Nodes
// reachable from more than one map are never changed. Reference counts are
// atomic; a count is read with acquire ordering and dropped with release
// ordering, so a node another thread let go of was completely read by it
// before this map changes it in place. Iterators hold raw pointers into the
// tree: they are valid while the map they came from is alive and unchanged.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace raftmeta::state {

template <typename K, typename V, typename Less = std::less<K>>
class PersistentMap {
  struct Node;

  // Intrusive reference to a Node (one allocation per node, and a count that
  // can be read with acquire ordering, which std::shared_ptr does not offer).
  class NodePtr {
   public:
    NodePtr() = default;
    explicit NodePtr(Node* n) : p_(n) { retain(); }
    NodePtr(const NodePtr& o) : p_(o.p_) { retain(); }
    NodePtr(NodePtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    NodePtr& operator=(NodePtr o) noexcept {
      std::swap(p_, o.p_);
      return *this;
    }
    ~NodePtr() {
      if (p_ != nullptr && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
    }
    Node* get() const { return p_; }
    Node* operator->() const { return p_; }
    Node& operator*() const { return *p_; }
    explicit operator bool() const { return p_ != nullptr; }
    // Whether this is the only reference to the node.
    bool unique() const { return p_->refs.load(std::memory_order_acquire) == 1; }

   private:
    void retain() {
      if (p_ != nullptr) p_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    Node* p_ = nullptr;
  };

  struct Node {
    Node(K k, V v, NodePtr l, NodePtr r)
        : key(std::move(k)), value(std::move(v)), left(std::move(l)), right(std::move(r)) {
      update();
    }
    void update() {
      height = 1 + std::max(height_of(left), height_of(right));
      size = 1 + size_of(left) + size_of(right);
    }
    std::atomic<std::uint32_t> refs{0};
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
  bool empty() const { return !root_; }

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

  // Inserts or replaces. At most O(log n) new nodes; the rest is shared.
  void set(K key, V value) { root_ = insert(std::move(root_), std::move(key), std::move(value)); }

  // Removes `key` if present; returns whether it was. `key` may refer to a
  // key inside this map (e.g. begin().key()).
  bool erase(const K& key) {
    bool erased = false;
    root_ = remove(std::move(root_), key, &erased);
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
    return NodePtr(new Node(std::move(key), std::move(value), std::move(left), std::move(right)));
  }

  // Builds a node from parts whose heights differ by at most 2, rotating so
  // that they differ by at most 1 (AVL). Always new nodes.
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

  // `n` is ours alone and one of its children changed: updates it in place,
  // or rebuilds it by balance() when it needs a rotation.
  static NodePtr rebalance(NodePtr n) {
    const int hl = height_of(n->left);
    const int hr = height_of(n->right);
    if (hl > hr + 1 || hr > hl + 1) {
      return balance(std::move(n->key), std::move(n->value), std::move(n->left),
                     std::move(n->right));
    }
    n->update();
    return n;
  }

  // The subtree `n` with `key` set. `n` is taken by value so that a node
  // referenced only by the caller's path is still referenced once here (and
  // is changed in place); a shared node is copied, and the copy references
  // its children a second time, so they are copied too.
  NodePtr insert(NodePtr n, K&& key, V&& value) const {
    if (!n) return make(std::move(key), std::move(value), NodePtr(), NodePtr());
    const bool mine = n.unique();
    if (less_(key, n->key)) {
      if (mine) {
        n->left = insert(std::move(n->left), std::move(key), std::move(value));
        return rebalance(std::move(n));
      }
      return balance(n->key, n->value, insert(n->left, std::move(key), std::move(value)), n->right);
    }
    if (less_(n->key, key)) {
      if (mine) {
        n->right = insert(std::move(n->right), std::move(key), std::move(value));
        return rebalance(std::move(n));
      }
      return balance(n->key, n->value, n->left, insert(n->right, std::move(key), std::move(value)));
    }
    if (mine) {
      n->value = std::move(value);
      return n;
    }
    return make(std::move(key), std::move(value), n->left, n->right);
  }

  // Removes the smallest node of `n`; *min receives it.
  static NodePtr remove_min(NodePtr n, NodePtr* min) {
    if (n.unique()) {
      if (!n->left) {
        NodePtr right = std::move(n->right);
        *min = std::move(n);
        return right;
      }
      n->left = remove_min(std::move(n->left), min);
      return rebalance(std::move(n));
    }
    if (!n->left) {
      NodePtr right = n->right;
      *min = std::move(n);
      return right;
    }
    return balance(n->key, n->value, remove_min(n->left, min), n->right);
  }

  // The subtree `n` without `key` (the same subtree when it holds no `key`).
  // `key` may refer to the key of the node being removed: it is not used
  // after that node is changed or released.
  NodePtr remove(NodePtr n, const K& key, bool* erased) const {
    if (!n) return n;
    const bool mine = n.unique();
    if (less_(key, n->key)) {
      if (mine) {
        n->left = remove(std::move(n->left), key, erased);
        return *erased ? rebalance(std::move(n)) : n;
      }
      NodePtr left = remove(n->left, key, erased);
      if (!*erased) return n;
      return balance(n->key, n->value, std::move(left), n->right);
    }
    if (less_(n->key, key)) {
      if (mine) {
        n->right = remove(std::move(n->right), key, erased);
        return *erased ? rebalance(std::move(n)) : n;
      }
      NodePtr right = remove(n->right, key, erased);
      if (!*erased) return n;
      return balance(n->key, n->value, n->left, std::move(right));
    }
    *erased = true;
    if (!n->left) return mine ? std::move(n->right) : n->right;
    if (!n->right) return mine ? std::move(n->left) : n->left;
    NodePtr min;
    if (mine) {
      n->right = remove_min(std::move(n->right), &min);
      if (min.unique()) {
        n->key = std::move(min->key);
        n->value = std::move(min->value);
      } else {
        n->key = min->key;
        n->value = min->value;
      }
      return rebalance(std::move(n));
    }
    NodePtr right = remove_min(n->right, &min);
    return balance(min->key, min->value, n->left, std::move(right));
  }

  NodePtr root_;
  [[no_unique_address]] Less less_;
};

}  // namespace raftmeta::state
