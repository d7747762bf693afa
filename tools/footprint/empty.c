/* tools/bench --footprint: the empty C program that one_mapping.c's size is
 * compared with (the static growth is the difference). */
int main(void) { return 0; }
