//===- StorageTestMain.cpp - GoogleTest entry point under SystemC ---------===//
//
// Part of Tessera. libsystemc provides main() and calls sc_main(); the storage
// tests run GoogleTest from there.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>
#include <systemc>

#include <cstdlib>

int sc_main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

int main(int argc, char **argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
