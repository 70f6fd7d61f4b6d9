//! C ABI (contract §2). See include/zego_room.h.
