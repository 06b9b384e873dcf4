import Synchronization

/// A value shared between threads behind a lock, for closures that must capture it.
final class LockedBox<Value: Sendable>: Sendable {
  private let value: Mutex<Value>
  init(_ value: Value) { self.value = Mutex(value) }
  func get() -> Value { self.value.withLock { $0 } }
  func set(_ newValue: Value) { self.value.withLock { $0 = newValue } }
}
