import Foundation
import Testing
@testable import dualpipe

@Suite struct MCASettingsTests {
    @Test func aFileLineIsReadWithoutItsComment() {
        let text = """
        # btl_tcp_disable_family = 4
        btl_tcp_eager_limit = 1000
        btl_tcp_disable_family=6   # IPv4 only
        """
        #expect(MCASettings.value(of: "btl_tcp_disable_family", inText: text) == "6")
        #expect(MCASettings.value(of: "btl_tcp_eager_limit", inText: text) == "1000")
        #expect(MCASettings.value(of: "btl_tcp", inText: text) == nil)
    }

    @Test func theLastLineOfAFileWins() {
        #expect(MCASettings.value(of: "a", inText: "a = 1\na = 2\n") == "2")
    }

    @Test func theEnvironmentOrAFileIsTheUsersSetting() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("params.conf").path
        try "btl_tcp_disable_family = 4\n".write(toFile: file, atomically: true, encoding: .utf8)
        let files = ["OMPI_MCA_mca_base_param_files": file]

        let fromFile = MCASettings.userSetting(of: "btl_tcp_disable_family", environment: files)
        #expect(fromFile?.value == "4" && fromFile?.source == file)
        // Open MPI 5's launcher passes the file's value to the ranks as environment too.
        let passedOn = MCASettings.userSetting(of: "btl_tcp_disable_family", environment: files.merging(["OMPI_MCA_btl_tcp_disable_family": "4"]) { $1 })
        #expect(passedOn?.source == file)
        let own = MCASettings.userSetting(of: "btl_tcp_disable_family", environment: files.merging(["OMPI_MCA_btl_tcp_disable_family": "0"]) { $1 })
        #expect(own?.value == "0" && own?.source == "OMPI_MCA_btl_tcp_disable_family")
        #expect(MCASettings.userSetting(of: "btl_tcp_eager_limit", environment: files) == nil)
    }
}

@Suite struct TCPAddressFamilyTests {
    @Test func onlyOpenMPI5WithoutASettingGoesIPv4Only() {
        let five = "Open MPI v5.0.7, package: Debian OpenMPI, ident: 5.0.7, repo rev: v5.0.7, Feb 14, 2025"
        let four = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022"
        #expect(TCPAddressFamily.needsIPv4Only(libraryVersion: five, userSetting: nil))
        #expect(!TCPAddressFamily.needsIPv4Only(libraryVersion: five, userSetting: "0"))
        #expect(!TCPAddressFamily.needsIPv4Only(libraryVersion: four, userSetting: nil))
        #expect(!TCPAddressFamily.needsIPv4Only(libraryVersion: "MPICH Version: 4.0.2", userSetting: nil))
    }
}
