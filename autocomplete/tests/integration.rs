mod property;
mod suggest;
