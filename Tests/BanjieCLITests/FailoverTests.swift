import ArgumentParser
import Synchronization
import Testing

@testable import banjie

/// `--server a:7443,b:7443` (docs/OPERATIONS.md, "Several server addresses"): the list as typed, and the
/// move to the next server with the same idempotency keys.
@Suite("server lists and failover", .serialized)
struct FailoverTests {
  @Test("a list of servers is read in order; IPv6 in brackets; a bad entry is refused by name")
  func parsing() throws {
    let list = try ConnectionOptions.Endpoint.list("a.example:7443, 10.0.0.2:7444,[::1]:7445")
    #expect(list.map(\.host) == ["a.example", "10.0.0.2", "::1"])
    #expect(list.map(\.port) == [7443, 7444, 7445])
    #expect(list.map(\.text) == ["a.example:7443", "10.0.0.2:7444", "[::1]:7445"])
    #expect(try ConnectionOptions.Endpoint.list("127.0.0.1:7443").count == 1)
    for bad in ["a:7443,", "a:7443,b", ":7443", "a:0", "a:70000", ""] {
      #expect(throws: ValidationError.self, "\(bad)") { try ConnectionOptions.Endpoint.list(bad) }
    }
  }

  @Test("an unreachable server is left for the next, whose mutations carry the same keys as the lost attempt's")
  func sameKeysOnTheNextServer() async throws {
    let servers = try ConnectionOptions.Endpoint.list("a:7443,b:7443,c:7443")
    // An earlier call of the same invocation: its key is not handed out again.
    let earlier = IdempotencyKeys.next()
    let seen = Mutex<[String: [String]]>([:])
    let said = Mutex<[String]>([])
    let answer = try await ConnectionOptions.failover(servers, say: { line in said.withLock { $0.append(line) } }) { server in
      // Two mutations per attempt, as a command that makes two calls would.
      let keys = [IdempotencyKeys.next(), IdempotencyKeys.next()]
      seen.withLock { $0[server.host] = keys }
      guard server.host == "c" else {
        var lost = CLIError(exitCode: 69, message: "lost")
        lost.failover = true
        throw lost
      }
      return server.text
    }
    #expect(answer == "c:7443")
    let keys = seen.withLock { $0 }
    #expect(keys["a"] == keys["b"])
    #expect(keys["b"] == keys["c"])
    #expect(Set(keys["a"] ?? []).count == 2)
    #expect(!(keys["a"] ?? []).contains(earlier))
    #expect(said.withLock { $0.count } == 2)
    #expect(said.withLock { $0.first?.contains("a:7443") ?? false })
    // A later call's first mutation gets a new key.
    let later = IdempotencyKeys.next()
    #expect(later != earlier && !(keys["a"] ?? []).contains(later))
  }

  @Test("a refused certificate is not tried elsewhere; every server unreachable says so with exit 69")
  func whatIsNotRetried() async throws {
    let servers = try ConnectionOptions.Endpoint.list("a:7443,b:7443")
    let tried = Mutex<[String]>([])
    await #expect {
      _ = try await ConnectionOptions.failover(servers, say: { _ in }) { server -> Int in
        tried.withLock { $0.append(server.host) }
        throw CLIError(exitCode: 77, message: "refused")
      }
    } throws: { ($0 as? CLIError)?.exitCode == 77 }
    #expect(tried.withLock { $0 } == ["a"])

    await #expect {
      _ = try await ConnectionOptions.failover(servers, say: { _ in }) { _ -> Int in
        var unreachable = CLIError(exitCode: 69, message: "down")
        unreachable.failover = true
        throw unreachable
      }
    } throws: { error in
      guard let error = error as? CLIError else { return false }
      return error.exitCode == 69 && error.message.contains("a:7443") && error.message.contains("b:7443")
    }
  }
}
