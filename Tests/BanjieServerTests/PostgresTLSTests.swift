import BanjieTLS
import Foundation
import Testing

@testable import BanjieStore

/// TLS to PostgreSQL on the system OpenSSL (PostgresConnect.swift; docs/OPERATIONS.md, "Moving
/// to PostgreSQL"), against the test cluster, which offers TLS with a certificate from a CA of its
/// own (scripts/postgres-cluster.sh).
@Suite("TLS to PostgreSQL", .timeLimit(.minutes(5)))
struct PostgresTLSTests {
  /// The URL of `location` with `query` added.
  static func url(_ location: PostgresLocation, _ query: String) -> String {
    "postgres://\(location.username)@\(location.host):\(location.port)/\(location.database)?\(query)"
  }

  /// The cluster's CA certificate, written to a file of this test's (the cluster keeps it in its
  /// data directory, readable by the superuser the tests connect as).
  static func clusterCA(_ location: PostgresLocation, directory: String) async throws -> String {
    let database = PostgresDatabase(location: location)
    defer { database.close() }
    let pem = try await database.read { sql in try sql.fetchAll(String.self, "SELECT pg_read_file('ca.pem')") }.first ?? ""
    let path = directory + "/postgres-ca.pem"
    try pem.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-pg-tls-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  @Test("verify-full: the store's connections are encrypted, and the store works over them")
  func verifyFull() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let ca = try await Self.clusterCA(location, directory: directory)
    let url = Self.url(location, "sslmode=verify-full&sslrootcert=\(ca)")
    let store = try await PostgresTestCluster.offPool { try BanjieStore.open(url) }
    defer { store.close() }
    guard case .postgres(let database) = store.engine else {
      Issue.record("a postgres:// URL opened another engine")
      return
    }
    #expect(database.location.tls?.mode == .verifyFull)
    let read = try await database.read { sql in
      try sql.fetchAll(String.self, "SELECT ssl::text || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    }
    #expect(read.count == 1 && read[0].hasPrefix("true TLSv1."))
    let written = try await database.write { sql in
      try sql.fetchAll(String.self, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    }
    #expect(written == ["true"])
    // The migrations ran over TLS and the store answers.
    #expect(try await store.verifyAudit().ok)
    // Logs and messages name the URL without the file paths or a password, with its mode.
    #expect(database.location.description.hasSuffix("?sslmode=verify-full"))
  }

  @Test("a server certificate that does not chain to sslrootcert is refused, before anything is sent in the clear")
  func wrongRoot() async throws {
    let location = try await PostgresTestCluster.makeDatabase()
    defer { PostgresTestCluster.dropDatabase(location) }
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // Another CA: banjie's own county CA, which never signed the cluster's certificate.
    let other = try CertificateAuthority.create(directory: directory + "/other-ca")
    for mode in ["require", "verify-ca", "verify-full"] {
      let url = Self.url(location, "sslmode=\(mode)&sslrootcert=\(other.certificateFile)")
      let failure: (any Error)?
      do {
        let store = try await PostgresTestCluster.offPool { try BanjieStore.open(url) }
        store.close()
        failure = nil
      } catch {
        failure = error
      }
      let text = failure.map { "\($0)" } ?? ""
      #expect(failure != nil, "sslmode=\(mode) with a foreign root was accepted")
      #expect(text.contains("TLS"), "sslmode=\(mode): \(text)")
    }
  }

  @Test("TLS options that could connect in the clear or unverified are refused when the URL is read")
  func refusedOptions() {
    func problem(_ query: String) -> PostgresLocationError.Problem? {
      do {
        _ = try PostgresLocation(url: "postgres://banjie@127.0.0.1:5432/banjie?\(query)")
        return nil
      } catch {
        return error.problem
      }
    }
    #expect(problem("sslmode=prefer") == .badTLSMode("prefer"))
    #expect(problem("sslmode=allow") == .badTLSMode("allow"))
    #expect(problem("sslmode=verify-full") == .tlsNeedsRoot("verify-full"))
    #expect(problem("sslmode=require") == .tlsNeedsRoot("require"))
    #expect(problem("sslmode=verify-ca&sslrootcert=/ca.pem&sslcert=/c.pem") == .tlsCertificateWithoutKey)
    #expect(problem("sslrootcert=/ca.pem") == .tlsOptionsWithoutMode)
    #expect(problem("sslmode=verify-full&sslrootcert=") == .emptyOption("sslrootcert"))
    #expect(problem("sslmode=disable") == nil)
    #expect(problem("sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/c.key") == nil)
    let location = try? PostgresLocation(url: "postgres://banjie:secret@db:5433/county?sslmode=verify-ca&sslrootcert=/etc/banjie/pg-ca.pem")
    #expect(location?.tls == PostgresTLS(mode: .verifyCA, rootCertificateFile: "/etc/banjie/pg-ca.pem"))
    #expect(location?.description == "postgres://banjie@db:5433/county?sslmode=verify-ca")
  }
}
